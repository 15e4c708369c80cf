namespace Coordination;

/// <summary>
/// TLS to Redis beyond what the configuration string says. TLS itself is on with <see cref="Enabled"/> or <c>ssl=true</c>
/// in <c>Coordination:Redis</c>; these settings add a private CA (<see cref="CaFile"/>: the server certificate must chain
/// to it, instead of to the operating system's trust store), a client certificate for servers with
/// <c>tls-auth-clients yes</c>, and the host-name check. The files are re-read when they change (checked per connection).
/// </summary>
public sealed class RedisTlsOptions
{
    /// <summary>Connect with TLS (the same as <c>ssl=true</c> in the configuration string). Off by default.</summary>
    public bool Enabled { get; set; }

    /// <summary>PEM file of the CA certificates to trust (a bundle may hold several). Unset: the operating system's trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM file of the client certificate (it may also hold the key). Optional.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM file of the client certificate's private key, when not in <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>Require the server certificate to name the host connected to (or <c>sslHost</c> of the configuration string). On by default.</summary>
    public bool CheckHostName { get; set; } = true;

    /// <summary>The file settings (paths only, no secrets).</summary>
    public override string ToString() =>
        $"Enabled={Enabled}, CaFile={CaFile ?? "-"}, ClientCertificateFile={ClientCertificateFile ?? "-"}, CheckHostName={CheckHostName}";
}

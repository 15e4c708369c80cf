namespace Coordination.ZooKeeper;

/// <summary>
/// TLS for the connections to ZooKeeper (the servers' <c>secureClientPort</c>): TLS 1.2 or 1.3 on every connection,
/// reconnects and failovers included. The server certificate must chain to a CA of <see cref="CaFile"/> (or of the
/// operating system's trust store when it is not set) and, unless <see cref="CheckHostName"/> is off, name the host of
/// the connection string. A client certificate (<see cref="ClientCertificateFile"/>) gives mutual TLS; ZooKeeper then
/// authenticates the session as its <c>x509</c> subject.
/// </summary>
public sealed class ZooKeeperTlsOptions
{
    /// <summary>Connect with TLS. Off by default; the file settings are refused while it is off.</summary>
    public bool Enabled { get; set; }

    /// <summary>PEM file of the CA certificates to trust (a bundle may hold several). Unset: the operating system's trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM file of the client certificate for mutual TLS (it may also hold the key). Optional.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM file of the client certificate's private key (unencrypted PKCS#8, PKCS#1 or SEC1), when not in <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>Require the server certificate to name the host connected to (DNS name or IP address). On by default.</summary>
    public bool CheckHostName { get; set; } = true;

    /// <summary>The settings without secrets (file paths only), for logs.</summary>
    public override string ToString() => !Enabled
        ? "TLS off"
        : $"TLS on (CA: {CaFile ?? "system trust store"}{(ClientCertificateFile is null ? string.Empty : $", client certificate: {ClientCertificateFile}")}{(CheckHostName ? string.Empty : ", host name not checked")})";

    /// <summary>What is wrong with the settings, each message naming <paramref name="prefix"/>'s option and the bad value; empty when usable.</summary>
    internal IReadOnlyList<string> Problems(string prefix) => TlsClientSettings.Problems(prefix, Enabled, CaFile, ClientCertificateFile, ClientKeyFile);
}

using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Coordination.ZooKeeper;

/// <summary>
/// The client side of TLS, shared by the ZooKeeper connections and the Redis multiplexer: the trusted CAs (a PEM
/// bundle, or the operating system's store), an optional client certificate, the server-certificate check with a
/// message that says why a certificate was refused, and the handshake. The files are read when created and again
/// when they change (checked before each new connection), so rotated certificates are picked up without a restart.
/// </summary>
internal sealed class TlsClientSettings
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    private readonly string? _caFile;
    private readonly string? _certFile;
    private readonly string? _keyFile;
    private readonly object _gate = new();
    private Material _material;

    /// <summary>Loads the files.</summary>
    /// <exception cref="ArgumentException">A file is missing or unreadable (the message names it).</exception>
    public TlsClientSettings(string? caFile, string? clientCertificateFile, string? clientKeyFile, bool checkHostName)
    {
        _caFile = caFile;
        _certFile = clientCertificateFile;
        _keyFile = clientKeyFile;
        CheckHostName = checkHostName;
        _material = Load();
    }

    /// <summary>Whether the server certificate must name the host.</summary>
    public bool CheckHostName { get; }

    /// <summary>True when a client certificate is configured (mutual TLS).</summary>
    public bool HasClientCertificate => _certFile is not null;

    /// <summary>Where trust comes from, for messages.</summary>
    public string TrustSource => _caFile is null ? "the operating system's trust store" : $"the CAs in '{_caFile}'";

    /// <summary>The client certificate to present, or null.</summary>
    public X509Certificate2? ClientCertificate => Current().Client;

    /// <summary>Creates the settings of <paramref name="options"/>, or null when TLS is off.</summary>
    public static TlsClientSettings? From(ZooKeeperTlsOptions options) =>
        options.Enabled ? new TlsClientSettings(options.CaFile, options.ClientCertificateFile, options.ClientKeyFile, options.CheckHostName) : null;

    /// <summary>
    /// What is wrong with the file settings, each message naming the option (<paramref name="prefix"/> + name, e.g.
    /// <c>Coordination:ZooKeeperTls:</c> + <c>CaFile</c>) and the bad value; empty when they are usable.
    /// </summary>
    public static IReadOnlyList<string> Problems(string prefix, bool enabled, string? caFile, string? clientCertificateFile, string? clientKeyFile)
    {
        var problems = new List<string>();
        if (!enabled)
        {
            var set = new[] { ("CaFile", caFile), ("ClientCertificateFile", clientCertificateFile), ("ClientKeyFile", clientKeyFile) }.FirstOrDefault(f => f.Item2 is not null);
            if (set.Item2 is not null)
            {
                problems.Add($"{prefix}{set.Item1} is set ('{set.Item2}') but {prefix}Enabled is false, so the connection would not use TLS; set {prefix}Enabled to true or remove the file settings.");
            }

            return problems;
        }

        if (caFile is not null)
        {
            try
            {
                _ = LoadCa(caFile, prefix + "CaFile");
            }
            catch (ArgumentException ex)
            {
                problems.Add(ex.Message);
            }
        }

        if (clientKeyFile is not null && clientCertificateFile is null)
        {
            problems.Add($"{prefix}ClientKeyFile is set ('{clientKeyFile}') without {prefix}ClientCertificateFile.");
        }
        else if (clientCertificateFile is not null)
        {
            try
            {
                using var cert = LoadClient(clientCertificateFile, clientKeyFile, prefix).Leaf;
            }
            catch (ArgumentException ex)
            {
                problems.Add(ex.Message);
            }
        }

        return problems;
    }

    /// <summary>The TLS handshake on <paramref name="transport"/> as a client of <paramref name="host"/>.</summary>
    /// <exception cref="AuthenticationException">The server certificate was refused; the message says why.</exception>
    /// <exception cref="IOException">The handshake failed otherwise (the message suggests causes).</exception>
    public async Task<SslStream> AuthenticateAsync(Stream transport, string host, string server, CancellationToken cancellationToken)
    {
        var material = Current();
        string? refused = null;
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ClientCertificateContext = material.ClientContext,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => (refused = Check(material, host, certificate, chain, errors)) is null,
        };
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return ssl;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            if (refused is not null)
            {
                throw new AuthenticationException($"{server} presented {refused}.", ex);
            }

            var certificate = material.Client is null ? string.Empty : $", or it refused the client certificate '{material.Client.Subject}'";
            throw new IOException($"The TLS handshake with {server} failed: {ex.Message} (is it a TLS port such as ZooKeeper's secureClientPort? A plain port closes TLS connections{certificate}).", ex);
        }
    }

    /// <summary>
    /// Checks a server certificate: null when it is trusted (and names the host, when checked), else why not. For
    /// callers that run the handshake themselves (StackExchange.Redis); <paramref name="errors"/> is what the platform
    /// found, of which only the host-name result is used when a CA file is configured.
    /// </summary>
    public string? Check(string host, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) => Check(Current(), host, certificate, chain, errors);

    private string? Check(Material material, string host, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return "no certificate";
        }

        using var cert = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        string? problem = null;
        if (material.Ca is { } ca)
        {
            using var own = new X509Chain();
            own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            own.ChainPolicy.CustomTrustStore.AddRange(ca);
            own.ChainPolicy.ApplicationPolicy.Add(ServerAuth);
            if (chain is not null)
            {
                // The intermediates the server sent.
                own.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
                foreach (var element in chain.ChainElements.Skip(1))
                {
                    own.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }

            if (!own.Build(cert))
            {
                problem = Describe(own.ChainStatus);
            }
        }
        else if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            problem = Describe(chain?.ChainStatus ?? []);
        }

        if (problem is null && CheckHostName && errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            problem = $"it does not name the host '{host}' (it names {Names(cert)}; check the connection string's host or turn CheckHostName off)";
        }

        return problem is null ? null : $"a certificate that is not trusted: '{cert.Subject}' issued by '{cert.Issuer}': {problem}; trusted: {TrustSource}";
    }

    private static string Describe(X509ChainStatus[] status)
    {
        var parts = status.Where(s => s.Status != X509ChainStatusFlags.NoError)
            .Select(s => string.IsNullOrWhiteSpace(s.StatusInformation) ? s.Status.ToString() : $"{s.Status} ({s.StatusInformation.Trim()})")
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return parts.Count == 0 ? "its chain could not be built" : string.Join(", ", parts);
    }

    private static string Names(X509Certificate2 cert)
    {
        var san = cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        var names = san is null ? [] : san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(ip => ip.ToString())).ToList();
        return names.Count == 0 ? $"no subject alternative name, subject '{cert.Subject}'" : string.Join(", ", names);
    }

    private Material Current()
    {
        lock (_gate)
        {
            if (_material.Stamp != Stamp())
            {
                try
                {
                    _material = Load();
                }
                catch (ArgumentException)
                {
                    // Mid-rotation (a file half written or briefly missing): keep the last good files, try again next time.
                }
            }

            return _material;
        }
    }

    private Material Load()
    {
        var stamp = Stamp();
        var ca = _caFile is null ? null : LoadCa(_caFile, "CaFile");
        if (_certFile is null)
        {
            return new Material(stamp, ca, null, null);
        }

        var (leaf, intermediates) = LoadClient(_certFile, _keyFile, string.Empty);
        return new Material(stamp, ca, leaf, SslStreamCertificateContext.Create(leaf, intermediates, offline: true));
    }

    private string Stamp() => string.Join("|", new[] { _caFile, _certFile, _keyFile }.Select(f => f is null ? "-" : File.GetLastWriteTimeUtc(f).Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static X509Certificate2Collection LoadCa(string file, string option)
    {
        var ca = new X509Certificate2Collection();
        try
        {
            ca.ImportFromPemFile(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ArgumentException($"{option} '{file}' cannot be read as a PEM file of CA certificates: {Reason(ex, file)}", option, ex);
        }

        return ca.Count > 0
            ? ca
            : throw new ArgumentException($"{option} '{file}' holds no PEM certificate ('-----BEGIN CERTIFICATE-----').", option);
    }

    private static (X509Certificate2 Leaf, X509Certificate2Collection Intermediates) LoadClient(string certFile, string? keyFile, string prefix)
    {
        var option = prefix + "ClientCertificateFile";
        X509Certificate2 leaf;
        var all = new X509Certificate2Collection();
        try
        {
            leaf = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            all.ImportFromPemFile(certFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            var key = keyFile is null ? $" (no {prefix}ClientKeyFile: the key must then be in the same file)" : $" with {prefix}ClientKeyFile '{keyFile}'";
            throw new ArgumentException($"{option} '{certFile}'{key} cannot be loaded: {Reason(ex, keyFile is not null && !File.Exists(keyFile) ? keyFile : certFile)}", option, ex);
        }

        if (leaf.NotAfter < DateTime.Now)
        {
            var expired = $"{option} '{certFile}' ('{leaf.Subject}') expired on {leaf.NotAfter.ToUniversalTime():u}.";
            leaf.Dispose();
            throw new ArgumentException(expired, option);
        }

        if (OperatingSystem.IsWindows())
        {
            // SChannel cannot use an ephemeral key for the handshake; a PKCS#12 round trip gives it a persisted one.
            var exported = leaf.Export(X509ContentType.Pkcs12);
            leaf.Dispose();
            leaf = X509CertificateLoader.LoadPkcs12(exported, null);
        }

        var intermediates = new X509Certificate2Collection();
        foreach (var c in all)
        {
            if (c.Thumbprint != leaf.Thumbprint)
            {
                intermediates.Add(c);
            }
        }

        return (leaf, intermediates);
    }

    private static string Reason(Exception ex, string file) => ex is FileNotFoundException or DirectoryNotFoundException || !File.Exists(file) ? "the file does not exist" : ex.Message;

    private sealed record Material(string Stamp, X509Certificate2Collection? Ca, X509Certificate2? Client, SslStreamCertificateContext? ClientContext);
}

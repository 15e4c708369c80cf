using System.Net.Security;
using System.Security.Authentication;
using Coordination.ZooKeeper;
using StackExchange.Redis;

namespace Coordination.Security;

/// <summary>
/// TLS for the Redis multiplexer from <see cref="RedisTlsOptions"/>: TLS 1.2/1.3, the private CA and host-name check of
/// <see cref="TlsClientSettings"/> (the same check as for ZooKeeper, with the same messages), a client certificate. A
/// refused server certificate is remembered in <see cref="LastRefusal"/> for health checks and lock errors, since
/// StackExchange.Redis only reports an AuthenticationFailure. Credentials (<c>user=</c>, <c>password=</c>) stay in the
/// configuration string, where StackExchange.Redis reads them.
/// </summary>
internal sealed class RedisSecurity
{
    private readonly TlsClientSettings? _tls;
    private string? _lastRefusal;

    private RedisSecurity(TlsClientSettings? tls) => _tls = tls;

    /// <summary>Why the latest TLS handshake refused the server's certificate, or null.</summary>
    public string? LastRefusal => Volatile.Read(ref _lastRefusal);

    /// <summary>True when <paramref name="configuration"/> or <paramref name="tls"/> turns TLS on.</summary>
    public static bool UsesTls(string? configuration, RedisTlsOptions tls) =>
        tls.Enabled || (configuration is not null && TryParse(configuration)?.Ssl == true);

    /// <summary>What is wrong with <paramref name="tls"/> for <paramref name="configuration"/>, naming the options under <paramref name="prefix"/>.</summary>
    public static IEnumerable<string> Problems(string prefix, string? configuration, RedisTlsOptions? tls)
    {
        if (tls is null)
        {
            yield return $"{prefix}:RedisTls must not be null.";
            yield break;
        }

        var on = UsesTls(configuration, tls);
        foreach (var p in TlsClientSettings.Problems(prefix + ":RedisTls:", on, tls.CaFile, tls.ClientCertificateFile, tls.ClientKeyFile))
        {
            // TLS is on either way for Redis: name both switches.
            yield return on ? p : p.Replace($"{prefix}:RedisTls:Enabled is false", $"TLS is off ({prefix}:RedisTls:Enabled is false and {prefix}:Redis has no ssl=true)", StringComparison.Ordinal);
        }
    }

    /// <summary>Applies <paramref name="tls"/> to <paramref name="config"/> and returns the object that checks certificates.</summary>
    public static RedisSecurity Apply(ConfigurationOptions config, RedisTlsOptions tls)
    {
        if (tls.Enabled)
        {
            config.Ssl = true;
        }

        if (!config.Ssl)
        {
            return new RedisSecurity(null);
        }

        config.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        var settings = new TlsClientSettings(tls.CaFile, tls.ClientCertificateFile, tls.ClientKeyFile, tls.CheckHostName);
        var security = new RedisSecurity(settings);
        config.CertificateValidation += security.Validate;
        if (settings.HasClientCertificate)
        {
            config.CertificateSelection += (_, _, _, _, _) => settings.ClientCertificate!;
        }

        return security;
    }

    private bool Validate(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate, System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors)
    {
        var host = (sender as SslStream)?.TargetHostName ?? "?";
        var refused = _tls!.Check(host, certificate, chain, errors);
        if (refused is not null)
        {
            Volatile.Write(ref _lastRefusal, $"Redis server '{host}' presented {refused}");
        }

        return refused is null;
    }

    private static ConfigurationOptions? TryParse(string configuration)
    {
        try
        {
            return ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}

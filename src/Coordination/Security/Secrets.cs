using System.Text.RegularExpressions;

namespace Coordination.Security;

/// <summary>
/// Keeps passwords out of logs, exceptions, health data and dashboards: a StackExchange.Redis configuration string
/// shows <c>password=*****</c>, digest credentials <c>user:*****</c>, and <see cref="Scrub"/> replaces any configured
/// secret that a message from elsewhere (a server, a client library) may carry.
/// </summary>
internal static partial class Secrets
{
    public const string Mask = "*****";

    /// <summary><paramref name="configuration"/> with the value of every <c>password=</c> option masked.</summary>
    public static string? Redis(string? configuration) =>
        configuration is null ? null : RedisPassword().Replace(configuration, Mask);

    /// <summary><c>user:*****</c> for digest credentials <c>user:password</c>.</summary>
    public static string? Digest(string? credentials) =>
        credentials is null ? null : credentials.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0 ? credentials[..(colon + 1)] + Mask : Mask;

    /// <summary>The secrets of <paramref name="redis"/> and <paramref name="digests"/> (the password parts), longest first.</summary>
    public static IReadOnlyList<string> Of(string? redis, params string?[] digests)
    {
        var secrets = new List<string>();
        if (redis is not null)
        {
            foreach (Match m in RedisPassword().Matches(redis))
            {
                secrets.Add(m.Value.Trim());
            }
        }

        foreach (var d in digests)
        {
            if (d is not null && d.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0)
            {
                secrets.Add(d[(colon + 1)..]);
            }
        }

        return [.. secrets.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
    }

    /// <summary><paramref name="text"/> with every one of <paramref name="secrets"/> masked.</summary>
    public static string Scrub(string text, IReadOnlyList<string> secrets)
    {
        foreach (var secret in secrets)
        {
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
        }

        return RedisPassword().Replace(text, Mask);
    }

    // StackExchange.Redis options are comma separated; password's value runs to the next comma.
    [GeneratedRegex(@"(?<=(?:^|,)\s*password\s*=)[^,]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RedisPassword();
}

using System.Text;

namespace Coordination.ZooKeeper;

/// <summary>Credentials of a session: an authentication scheme and its data (for <c>digest</c>, <c>user:password</c> in UTF-8).</summary>
public sealed class ZooKeeperAuthInfo
{
    /// <summary>Credentials for <paramref name="scheme"/>.</summary>
    /// <exception cref="ArgumentException">The scheme is empty, or digest data is not <c>user:password</c>.</exception>
    public ZooKeeperAuthInfo(string scheme, byte[] auth)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentNullException.ThrowIfNull(auth);
        if (scheme == "digest" && Encoding.UTF8.GetString(auth).IndexOf(':', StringComparison.Ordinal) <= 0)
        {
            throw new ArgumentException("Digest credentials must be 'user:password' with a non-empty user.", nameof(auth));
        }

        Scheme = scheme;
        Auth = auth;
    }

    /// <summary>The scheme, e.g. <c>digest</c>.</summary>
    public string Scheme { get; }

    /// <summary>The scheme's data. Secret: never logged.</summary>
    public ReadOnlyMemory<byte> Auth { get; }

    /// <summary>The user of digest credentials, else null.</summary>
    public string? User => Scheme == "digest" ? Encoding.UTF8.GetString(Auth.Span).Split(':', 2)[0] : null;

    /// <summary>Digest credentials (<c>user:password</c>), the identity ZooKeeper's <c>digest</c> ACLs name.</summary>
    public static ZooKeeperAuthInfo Digest(string user, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        if (user.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Digest user '{user}' must not contain ':'.", nameof(user));
        }

        return new ZooKeeperAuthInfo("digest", Encoding.UTF8.GetBytes(user + ":" + password));
    }

    /// <summary>The scheme and, for digest, the user; never the secret.</summary>
    public override string ToString() => User is { } user ? $"digest:{user}:*****" : $"{Scheme}:*****";
}

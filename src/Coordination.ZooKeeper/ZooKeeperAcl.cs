using System.Security.Cryptography;
using System.Text;

namespace Coordination.ZooKeeper;

/// <summary>One ACL entry: permissions granted to an identity (<c>scheme:id</c>).</summary>
/// <param name="Permissions">What the identity may do.</param>
/// <param name="Scheme">The scheme: <c>world</c>, <c>auth</c>, <c>digest</c>, <c>ip</c>...</param>
/// <param name="Id">The identity within the scheme.</param>
public sealed record ZooKeeperAcl(ZooKeeperPermissions Permissions, string Scheme, string Id)
{
    /// <summary>Everyone may do everything (<c>world:anyone</c>, all permissions).</summary>
    public static IReadOnlyList<ZooKeeperAcl> OpenUnsafe { get; } = [new(ZooKeeperPermissions.All, "world", "anyone")];

    /// <summary>Everyone may read.</summary>
    public static IReadOnlyList<ZooKeeperAcl> ReadUnsafe { get; } = [new(ZooKeeperPermissions.Read, "world", "anyone")];

    /// <summary>All permissions for the identities authenticated on the creating session (<c>auth:</c>).</summary>
    public static IReadOnlyList<ZooKeeperAcl> CreatorAll { get; } = [new(ZooKeeperPermissions.All, "auth", string.Empty)];

    /// <summary>
    /// A <c>digest</c> ACL entry for <paramref name="user"/>/<paramref name="password"/>:
    /// id = <c>user:base64(sha1(user:password))</c>, as DigestAuthenticationProvider computes it.
    /// </summary>
    public static ZooKeeperAcl Digest(string user, string password, ZooKeeperPermissions permissions = ZooKeeperPermissions.All)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        if (user.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Digest user '{user}' must not contain ':'.", nameof(user));
        }

        var hash = SHA1.HashData(Encoding.UTF8.GetBytes(user + ":" + password));
        return new ZooKeeperAcl(permissions, "digest", user + ":" + Convert.ToBase64String(hash));
    }
}

using Coordination.ZooKeeper;

namespace Coordination.Security;

/// <summary>
/// The one place that turns the options into the ZooKeeper session's security: TLS, the digest credentials, and the ACL
/// of every node the library creates (lock, semaphore and reader-writer directories and nodes, elections, discovery
/// registrations, configuration nodes written without WriterCredentials, EnsurePath parents, the chroot). The ACL is the
/// client's default ACL, so call sites create nodes without naming one and cannot forget it.
/// </summary>
/// <remarks>
/// With an identity (digest credentials and/or a client certificate, which ZooKeeper makes an <c>x509</c> identity):
/// <c>auth</c> (every identity of the creating session) with all rights, each admin identity with all rights, and
/// <c>world:anyone</c> with read when <see cref="ZooKeeperAclOptions.WorldReadable"/>. ZooKeeper checks delete and
/// create against the parent's ACL, so a client without the identity can read a held lock's node but can neither
/// delete it nor queue inside the lock's directory. Without an identity: world:anyone with all rights, as before.
/// </remarks>
internal sealed class ZooKeeperSecurity
{
    private readonly ZooKeeperTlsOptions _tls;

    private ZooKeeperSecurity(string? auth, ZooKeeperTlsOptions tls, ZooKeeperAclOptions acl, string prefix)
    {
        _tls = tls;
        Prefix = prefix;
        Digest = auth is null ? null : ZooKeeperAuthInfo.Digest(auth[..auth.IndexOf(':', StringComparison.Ordinal)], auth[(auth.IndexOf(':', StringComparison.Ordinal) + 1)..]);
        if (HasIdentity)
        {
            List<ZooKeeperAcl> entries = [.. ZooKeeperAcl.CreatorAll, .. acl.AdminIdentities.Select(ParseIdentity)];
            if (acl.WorldReadable)
            {
                entries.AddRange(ZooKeeperAcl.ReadUnsafe);
            }

            NodeAcl = entries;
        }
    }

    /// <summary>The configuration prefix the messages name (<c>Coordination</c>, or the configuration source's options).</summary>
    public string Prefix { get; }

    /// <summary>The digest credentials, or null.</summary>
    public ZooKeeperAuthInfo? Digest { get; }

    /// <summary>True when the session authenticates (digest credentials or a client certificate).</summary>
    public bool HasIdentity => Digest is not null || HasClientCertificate;

    /// <summary>The ACL of the nodes the library creates; null (world:anyone, all rights) without an identity.</summary>
    public IReadOnlyList<ZooKeeperAcl>? NodeAcl { get; }

    private bool HasClientCertificate => _tls.Enabled && _tls.ClientCertificateFile is not null;

    /// <summary>Who the session is, for messages and health data (never a secret).</summary>
    public string Identity =>
        (Digest, HasClientCertificate) switch
        {
            (null, false) => $"no credentials (neither {Prefix}:ZooKeeperAuth nor a client certificate is configured)",
            ({ } d, false) => $"digest user '{d.User}' ({Prefix}:ZooKeeperAuth)",
            (null, true) => $"the x509 subject of the client certificate '{_tls.ClientCertificateFile}'",
            ({ } d, true) => $"digest user '{d.User}' ({Prefix}:ZooKeeperAuth) and the x509 subject of the client certificate '{_tls.ClientCertificateFile}'",
        };

    /// <summary>The security of the shared session of <paramref name="options"/>.</summary>
    public static ZooKeeperSecurity Of(HybridCoordinationOptions options) =>
        new(options.ZooKeeperAuth, options.ZooKeeperTls, options.ZooKeeperAcl, HybridCoordinationOptions.SectionName);

    /// <summary>The security of a session configured elsewhere (the configuration source's own).</summary>
    public static ZooKeeperSecurity Of(string? auth, ZooKeeperTlsOptions tls, ZooKeeperAclOptions acl, string prefix) => new(auth, tls, acl, prefix);

    /// <summary>Puts TLS, the credentials and the node ACL into a client's options.</summary>
    public void ApplyTo(ZooKeeperClientOptions client)
    {
        client.Tls = _tls;
        if (Digest is not null)
        {
            client.AuthInfo.Add(Digest);
        }

        client.DefaultAcl = NodeAcl;
    }

    /// <summary>What is wrong with the security options, each message naming the option (under <paramref name="prefix"/>) and the value.</summary>
    public static IEnumerable<string> Problems(string prefix, string? auth, ZooKeeperTlsOptions? tls, ZooKeeperAclOptions? acl)
    {
        if (auth is not null && (auth.IndexOf(':', StringComparison.Ordinal) is <= 0 || auth.Length == auth.IndexOf(':', StringComparison.Ordinal) + 1))
        {
            yield return $"{prefix}:ZooKeeperAuth must be 'user:password' with a non-empty user and password (got '{Secrets.Digest(auth)}').";
        }

        if (tls is null)
        {
            yield return $"{prefix}:ZooKeeperTls must not be null.";
        }
        else
        {
            foreach (var p in tls.Problems(prefix + ":ZooKeeperTls:"))
            {
                yield return p;
            }
        }

        if (acl is null)
        {
            yield return $"{prefix}:ZooKeeperAcl must not be null.";
            yield break;
        }

        for (var i = 0; i < acl.AdminIdentities.Count; i++)
        {
            var id = acl.AdminIdentities[i];
            var colon = id?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (id is null || colon <= 0 || colon == id.Length - 1)
            {
                yield return $"{prefix}:ZooKeeperAcl:AdminIdentities:{i} '{id}' must be 'scheme:id', e.g. 'digest:ops:<base64 sha1>' or 'x509:CN=ops'.";
            }
            else if (id.StartsWith("world:", StringComparison.Ordinal) || id.StartsWith("auth:", StringComparison.Ordinal))
            {
                yield return $"{prefix}:ZooKeeperAcl:AdminIdentities:{i} '{id}' is not an identity: world gives everyone all rights and auth is the creator, which always has them; use {prefix}:ZooKeeperAcl:WorldReadable for read access.";
            }
        }

        var hasIdentity = auth is not null || (tls is { Enabled: true, ClientCertificateFile: not null });
        if (acl.AdminIdentities.Count > 0 && !hasIdentity)
        {
            yield return $"{prefix}:ZooKeeperAcl:AdminIdentities is set but the session has no identity to own the nodes: set {prefix}:ZooKeeperAuth or {prefix}:ZooKeeperTls:ClientCertificateFile.";
        }
    }

    /// <summary>
    /// The message for ZooKeeper refusing this session <paramref name="what"/> (e.g. "creating the lock node in")
    /// <paramref name="path"/>: NoAuth (the identity lacks the right) or InvalidACL (the session has no identity the
    /// <c>auth</c> ACL can name). <paramref name="aclText"/> is the node's ACL when it could be read.
    /// </summary>
    public string Denied(string what, string path, ZooKeeperException ex, string? aclText = null)
    {
        var acl = aclText is null ? string.Empty : $" (its ACL: {aclText})";
        return ex.Code == ZooKeeperErrorCode.InvalidAcl
            ? $"ZooKeeper refused {what} '{path}' with InvalidACL: the session has no authenticated identity to own the node ({Identity}); with a client certificate, the server must accept it as an x509 identity (authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider, ssl.clientAuth want or need)."
            : $"ZooKeeper denied {what} '{path}' (NoAuth) to this session's identity: {Identity}{acl}. The node belongs to another identity: check the credentials (a wrong digest password is a different identity), or grant this one access ({Prefix}:ZooKeeperAcl:AdminIdentities on the instances that create the nodes, or setAcl).";
    }

    /// <summary>A node's ACL for messages: <c>digest:app (cdrwa), world:anyone (r)</c> (digest hashes left out).</summary>
    public static string Describe(IReadOnlyList<ZooKeeperAcl> acl) => string.Join(", ", acl.Select(a =>
    {
        var id = a.Scheme == "digest" && a.Id.IndexOf(':', StringComparison.Ordinal) is var c and > 0 ? a.Id[..c] : a.Id;
        return $"{a.Scheme}:{id} ({Rights(a.Permissions)})";
    }));

    private static string Rights(ZooKeeperPermissions p) => string.Concat(
        p.HasFlag(ZooKeeperPermissions.Create) ? "c" : string.Empty,
        p.HasFlag(ZooKeeperPermissions.Delete) ? "d" : string.Empty,
        p.HasFlag(ZooKeeperPermissions.Read) ? "r" : string.Empty,
        p.HasFlag(ZooKeeperPermissions.Write) ? "w" : string.Empty,
        p.HasFlag(ZooKeeperPermissions.Admin) ? "a" : string.Empty) is { Length: > 0 } r ? r : "none";

    private static ZooKeeperAcl ParseIdentity(string identity)
    {
        var colon = identity.IndexOf(':', StringComparison.Ordinal);
        return new ZooKeeperAcl(ZooKeeperPermissions.All, identity[..colon], identity[(colon + 1)..]);
    }
}

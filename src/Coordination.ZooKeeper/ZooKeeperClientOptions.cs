namespace Coordination.ZooKeeper;

/// <summary>Options of a <see cref="ZooKeeperClient"/>.</summary>
public sealed class ZooKeeperClientOptions
{
    /// <summary>Connection string <c>host:port[,host:port...][/chroot]</c>.</summary>
    public string ConnectionString { get; set; } = "127.0.0.1:2181";

    /// <summary>Requested session timeout; the server negotiates it into [2, 20] ticks by default.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest one attempt to connect to one server (TCP + handshake) may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Longest an operation may wait, for a connection and then for its answer, before it fails with
    /// ConnectionLoss or OperationTimeout. Default 15 s.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// When set: once a re-attaching session has heard from no server for this long, a call made while disconnected
    /// fails at once with ConnectionLoss instead of waiting for a connection up to <see cref="OperationTimeout"/>
    /// (fail fast when the servers are known to be gone). Null (default): calls wait up to <see cref="OperationTimeout"/>.
    /// </summary>
    public TimeSpan? UnavailableAfter { get; set; }

    /// <summary>Re-attach to an existing session instead of creating one (with <see cref="SessionPassword"/>).</summary>
    public long SessionId { get; set; }

    /// <summary>The password of the session in <see cref="SessionId"/>.</summary>
    public byte[]? SessionPassword { get; set; }

    /// <summary>Create the chroot node (and its parents) on first connect when it is missing. Default true.</summary>
    public bool CreateChroot { get; set; } = true;

    /// <summary>Shuffle the server list (spreads clients over the ensemble). Default true.</summary>
    public bool ShuffleHosts { get; set; } = true;

    /// <summary>TLS for every connection (the servers' <c>secureClientPort</c>). Off by default.</summary>
    public ZooKeeperTlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Credentials added to the session before anything else is sent on each connection, and re-sent after every
    /// reconnect (e.g. <see cref="ZooKeeperAuthInfo.Digest"/>). Empty by default.
    /// </summary>
    public IList<ZooKeeperAuthInfo> AuthInfo { get; } = new List<ZooKeeperAuthInfo>();

    /// <summary>
    /// The ACL of nodes created without one (create, multi, <c>EnsurePathAsync</c> and the chroot); null (default):
    /// <see cref="ZooKeeperAcl.OpenUnsafe"/>. For example creator-all plus world-read once the session is authenticated.
    /// </summary>
    public IReadOnlyList<ZooKeeperAcl>? DefaultAcl { get; set; }

    internal void Validate()
    {
        ZooKeeperConnectionString.Parse(ConnectionString);
        if (SessionTimeout < TimeSpan.FromMilliseconds(100) || SessionTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(SessionTimeout), SessionTimeout, $"SessionTimeout {SessionTimeout} must be between 100 ms and 1 hour.");
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, $"ConnectTimeout {ConnectTimeout} must be positive.");
        }

        if (UnavailableAfter is { } unavailable && unavailable <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(UnavailableAfter), unavailable, $"UnavailableAfter {unavailable} must be positive.");
        }

        if (OperationTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(OperationTimeout), OperationTimeout, $"OperationTimeout {OperationTimeout} must be positive.");
        }

        if (SessionId != 0 && (SessionPassword is null || SessionPassword.Length != 16))
        {
            throw new ArgumentException($"SessionPassword must be the 16-byte password of session 0x{SessionId:x} to re-attach to it.", nameof(SessionPassword));
        }

        ArgumentNullException.ThrowIfNull(Tls, nameof(Tls));
        if (Tls.Problems(nameof(ZooKeeperClientOptions) + "." + nameof(Tls) + ".") is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(Tls));
        }

        foreach (var auth in AuthInfo)
        {
            if (auth is null)
            {
                throw new ArgumentException("AuthInfo holds a null entry.", nameof(AuthInfo));
            }
        }

        if (DefaultAcl is not null)
        {
            ZooKeeperClient.ValidateAcl(DefaultAcl, nameof(DefaultAcl));
        }
    }
}

using Coordination.Locks;
using Coordination.Security;
using Coordination.ZooKeeper;

namespace Coordination;

/// <summary>
/// Options for <c>AddHybridCoordination()</c>; bound from the <c>Coordination</c> configuration section
/// and validated at startup.
/// </summary>
public sealed class HybridCoordinationOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination";

    /// <summary>
    /// StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c>; with an ACL user and TLS
    /// <c>redis.example:6380,ssl=true,user=orders,password=...</c> (the password is masked wherever the library shows
    /// the string). Required unless the mode is ZooKeeperOnly or InProcess.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>TLS to Redis: a private CA, a client certificate, the host-name check (TLS is on with its Enabled or <c>ssl=true</c>).</summary>
    public RedisTlsOptions RedisTls { get; set; } = new();

    /// <summary>ZooKeeper connection string <c>host:port[,host:port...][/chroot]</c>. Required unless the mode is RedisOnly or InProcess.</summary>
    public string? ZooKeeper { get; set; }

    /// <summary>
    /// Digest credentials <c>user:password</c> of the ZooKeeper session, sent before any request on every connection.
    /// With them (or a client certificate) every node the library creates gets an ACL: see <see cref="ZooKeeperAcl"/>.
    /// </summary>
    public string? ZooKeeperAuth { get; set; }

    /// <summary>TLS to ZooKeeper (the servers' <c>secureClientPort</c>): CA file, client certificate for mutual TLS (an x509 identity), host-name check.</summary>
    public ZooKeeperTlsOptions ZooKeeperTls { get; set; } = new();

    /// <summary>The ACL of the nodes the library creates once the session has an identity (creator all, admins all, others read).</summary>
    public ZooKeeperAclOptions ZooKeeperAcl { get; set; } = new();

    /// <summary>How locks are decided. Hybrid by default.</summary>
    public LockMode Mode { get; set; } = LockMode.Hybrid;

    /// <summary>Prefix of every Redis key and channel the library uses. Default <c>coord:</c>.</summary>
    public string RedisPrefix { get; set; } = "coord:";

    /// <summary>The znode under which lock, configuration and discovery nodes live. Default <c>/coordination</c>.</summary>
    public string ZooKeeperRoot { get; set; } = "/coordination";

    /// <summary>Requested ZooKeeper session timeout; the server may negotiate it into its own bounds. Default 10 s.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one connection attempt to a server may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Longest a ZooKeeper operation may wait for a connection and its answer before it fails (and a lock request
    /// fails closed). Default 5 s.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long no ZooKeeper server may have answered before lock requests stop waiting for the session and fail at
    /// once with <c>LockUnavailableException</c> (fail closed, fast). A shorter blip, such as a ZooKeeper leader
    /// failover, is waited out. Default 2 s.
    /// </summary>
    public TimeSpan ZooKeeperUnavailableAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Lease of the Redis lock record; the watchdog extends it every third of the lease while the lock is held. Default 30 s.</summary>
    public TimeSpan RedisLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest key, in UTF-8 bytes, accepted by the lock provider. Default 512.</summary>
    public int MaxKeyLength { get; set; } = 512;

    /// <summary>
    /// When ZooKeeper is unreachable, let Hybrid mode grant Redis-only leases instead of failing closed.
    /// Unsafe: two holders can overlap if Redis fails over or the session state was wrong. Off by default.
    /// </summary>
    public bool UnsafeAllowRedisOnlyFallback { get; set; }

    /// <summary>
    /// Locks and reader-writer locks are re-entrant per async flow: a flow that holds a key and asks for it again gets a
    /// nested handle at once (same fencing token and lost signal; the lock is released when its last handle is
    /// disposed). Off: such a re-acquire fails at once with <see cref="System.Threading.LockRecursionException"/>
    /// instead of waiting for itself. Semaphore permits are never re-entrant. On by default.
    /// </summary>
    public bool ReentrantLocks { get; set; } = true;

    /// <summary>
    /// A lock, semaphore or reader-writer wait still going on after this long logs a warning naming the key, the keys
    /// the waiting flow holds and the holder when known, and is listed by <see cref="ILockInspector.GetLongWaits"/>
    /// (a wait whose timeout is shorter is never reported). <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>
    /// turns it off. Default 30 s.
    /// </summary>
    public TimeSpan LongWaitWarningAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The options without secrets (the Redis password and the ZooKeeper password masked), for logs and diagnostics.</summary>
    public override string ToString() =>
        $"Mode={Mode}, Redis={Secrets.Redis(Redis) ?? "-"}, RedisTls=[{RedisTls}], RedisPrefix={RedisPrefix}, ZooKeeper={ZooKeeper ?? "-"}, " +
        $"ZooKeeperAuth={Secrets.Digest(ZooKeeperAuth) ?? "-"}, ZooKeeperTls=[{ZooKeeperTls}], ZooKeeperAcl=[{ZooKeeperAcl}], ZooKeeperRoot={ZooKeeperRoot}, " +
        $"SessionTimeout={SessionTimeout}, ConnectTimeout={ConnectTimeout}, OperationTimeout={OperationTimeout}, ZooKeeperUnavailableAfter={ZooKeeperUnavailableAfter}, " +
        $"RedisLease={RedisLease}, MaxKeyLength={MaxKeyLength}, UnsafeAllowRedisOnlyFallback={UnsafeAllowRedisOnlyFallback}, " +
        $"ReentrantLocks={ReentrantLocks}, LongWaitWarningAfter={LongWaitWarningAfter}";

    /// <summary>The configured secrets, for <see cref="Secrets.Scrub"/>.</summary>
    internal IReadOnlyList<string> SecretValues => Secrets.Of(Redis, ZooKeeperAuth);

    /// <summary><paramref name="child"/> (e.g. <c>locks</c>) under <see cref="ZooKeeperRoot"/>.</summary>
    internal string UnderRoot(string child) => (ZooKeeperRoot == "/" ? string.Empty : ZooKeeperRoot) + "/" + child;
}

using Coordination.Security;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;

namespace Coordination.Configuration;

/// <summary>
/// Options of a ZooKeeper configuration source: where the tree lives, the servers (for
/// <c>builder.Configuration.AddZooKeeper(...)</c>, which runs before dependency injection and so owns its connections),
/// and how changes are batched and checked.
/// </summary>
public sealed class ZooKeeperConfigurationOptions
{
    /// <summary>
    /// ZooKeeper connection string <c>host:port[,host:port...][/chroot]</c>. Required for
    /// <c>AddZooKeeper</c>; ignored by <c>AddZooKeeperConfiguration</c>, which uses the shared Coordination connections.
    /// </summary>
    public string? ZooKeeper { get; set; }

    /// <summary>
    /// StackExchange.Redis configuration string of the cache (optional: without it there is no cold-start copy and no
    /// pub/sub refresh). Ignored by <c>AddZooKeeperConfiguration</c>, which uses the shared connections.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>Prefix of the Redis cache key and channel. Default <c>coord:</c>; <c>AddZooKeeperConfiguration</c> uses Coordination:RedisPrefix.</summary>
    public string RedisPrefix { get; set; } = "coord:";

    /// <summary>The znode whose subtree becomes configuration, e.g. <c>/config/orders</c>. Required; not <c>/</c>.</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// When true the application starts even if neither ZooKeeper nor the Redis copy can be read: the source is
    /// empty and reports Unhealthy until ZooKeeper answers. When false (default) such a start fails.
    /// </summary>
    public bool Optional { get; set; }

    /// <summary>
    /// How long to collect watch events after the first one before reloading, so a burst of changes fires the reload
    /// token once. Default 1 ms (a multi's events arrive back to back; raise it to merge slower bursts).
    /// </summary>
    public TimeSpan ReloadDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>How long start-up waits for a ZooKeeper connection before serving the Redis copy. Default 5 s.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Requested ZooKeeper session timeout of the source's own session (AddZooKeeper only). Default 10 s.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest one connection attempt may take (AddZooKeeper only). Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest a ZooKeeper operation may wait for a connection and its answer (AddZooKeeper only). Default 5 s.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Largest node value accepted, in bytes; a bigger node is treated as malformed (its last good value stays).
    /// Default 256 KiB.
    /// </summary>
    public int MaxValueBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// Digest credentials <c>user:password</c> of the writer. When set, the writer authenticates with them and creates
    /// nodes readable by everyone but writable only by this identity, so other writers are denied.
    /// </summary>
    public string? WriterCredentials { get; set; }

    /// <summary>
    /// Digest credentials <c>user:password</c> of the source's own session (AddZooKeeper only; <c>AddZooKeeperConfiguration</c>
    /// uses Coordination:ZooKeeperAuth). Needed to read a tree whose ACL does not let everyone read.
    /// </summary>
    public string? ZooKeeperAuth { get; set; }

    /// <summary>TLS of the source's own ZooKeeper connections (AddZooKeeper only; <c>AddZooKeeperConfiguration</c> uses Coordination:ZooKeeperTls).</summary>
    public ZooKeeperTlsOptions ZooKeeperTls { get; set; } = new();

    /// <summary>TLS of the source's own Redis connection (AddZooKeeper only; <c>AddZooKeeperConfiguration</c> uses Coordination:RedisTls).</summary>
    public RedisTlsOptions RedisTls { get; set; } = new();

    /// <summary>Logger factory for the source's logs (AddZooKeeper runs before DI, so it cannot resolve one). Optional.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal ZooKeeperConfigurationOptions Clone() => (ZooKeeperConfigurationOptions)MemberwiseClone();

    /// <summary>The options without secrets (Redis password, ZooKeeper and writer passwords masked).</summary>
    public override string ToString() =>
        $"Path={Path}, ZooKeeper={ZooKeeper ?? "-"}, ZooKeeperAuth={Secrets.Digest(ZooKeeperAuth) ?? "-"}, ZooKeeperTls=[{ZooKeeperTls}], " +
        $"Redis={Secrets.Redis(Redis) ?? "-"}, RedisTls=[{RedisTls}], RedisPrefix={RedisPrefix}, WriterCredentials={Secrets.Digest(WriterCredentials) ?? "-"}, Optional={Optional}";

    /// <summary>Throws <see cref="ArgumentException"/> naming the option and the bad value.</summary>
    internal void Validate(bool needsServers)
    {
        const string P = nameof(ZooKeeperConfigurationOptions);
        try
        {
            ZooKeeperPath.Validate(Path, nameof(Path));
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"{P}.Path '{Path}' is invalid: {ex.Message}", nameof(Path), ex);
        }

        if (Path == "/")
        {
            throw new ArgumentException($"{P}.Path '/' is not allowed: give the node that holds the configuration, e.g. '/config/orders'.", nameof(Path));
        }

        if (needsServers)
        {
            if (string.IsNullOrWhiteSpace(ZooKeeper))
            {
                throw new ArgumentException($"{P}.ZooKeeper is required (a connection string such as '127.0.0.1:2181').", nameof(ZooKeeper));
            }

            try
            {
                _ = ZooKeeperConnectionString.Parse(ZooKeeper);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"{P}.ZooKeeper '{ZooKeeper}' is invalid: {ex.Message}", nameof(ZooKeeper), ex);
            }
        }

        if (string.IsNullOrEmpty(RedisPrefix) || RedisPrefix.Any(char.IsWhiteSpace) || RedisPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            // Braces would become (or break) the Redis Cluster hash tag of the cache's keys.
            throw new ArgumentException($"{P}.RedisPrefix '{RedisPrefix}' must be non-empty and contain no whitespace and no '{{' or '}}' (the cache's keys carry their own hash tag).", nameof(RedisPrefix));
        }

        if (ReloadDelay < TimeSpan.Zero || ReloadDelay > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"{P}.ReloadDelay '{ReloadDelay}' must be between 00:00:00 and 00:00:10.", nameof(ReloadDelay));
        }

        Positive(StartupTimeout, nameof(StartupTimeout));
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(OperationTimeout, nameof(OperationTimeout));
        if (SessionTimeout < TimeSpan.FromSeconds(1) || SessionTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"{P}.SessionTimeout '{SessionTimeout}' must be between 00:00:01 and 00:10:00.", nameof(SessionTimeout));
        }

        if (MaxValueBytes is < 1 or > ZooKeeperClient.MaxDataLength)
        {
            throw new ArgumentException($"{P}.MaxValueBytes '{MaxValueBytes}' must be between 1 and {ZooKeeperClient.MaxDataLength}.", nameof(MaxValueBytes));
        }

        if (WriterCredentials is not null && (WriterCredentials.IndexOf(':', StringComparison.Ordinal) is <= 0))
        {
            throw new ArgumentException($"{P}.WriterCredentials must be 'user:password' (got a value without a user before ':').", nameof(WriterCredentials));
        }

        if (needsServers && ZooKeeperSecurity.Problems(P, ZooKeeperAuth, ZooKeeperTls, new ZooKeeperAclOptions()).Concat(RedisSecurity.Problems(P, Redis, RedisTls)).ToList() is { Count: > 0 } security)
        {
            throw new ArgumentException(string.Join(" ", security), security[0].Contains("Redis", StringComparison.Ordinal) ? nameof(RedisTls) : nameof(ZooKeeperTls));
        }
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"{nameof(ZooKeeperConfigurationOptions)}.{name} '{value}' must be positive and at most 00:05:00.", name);
        }
    }
}

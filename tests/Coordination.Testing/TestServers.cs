using System.Globalization;

namespace Coordination.Testing;

/// <summary>
/// Where the test servers started by <c>eng/servers.sh start</c> listen. Read from the <c>COORD_*</c> environment
/// variables when set (eng/test.sh exports them), else from <c>endpoints.env</c> in <c>COORD_SERVERS_DIR</c>, else
/// from the first <c>.servers/endpoints.env</c> found walking up from the test assembly's folder.
/// </summary>
public sealed class TestServers
{
    /// <summary>The file eng/servers.sh writes into its state directory.</summary>
    public const string EndpointsFileName = "endpoints.env";

    private const string Hint = "run eng/servers.sh start (or eng/test.sh), or set COORD_SERVERS_DIR to the directory holding endpoints.env";

    private const string SentinelHint = "the servers were started by an eng/servers.sh without the Sentinel group; stop them and run eng/servers.sh start again";

    private const string SecureHint = "the servers were started by an eng/servers.sh without the secure variants (TLS ZooKeeper, ACL/TLS Redis); run eng/servers.sh stop, then eng/servers.sh start";

    private const string ClusterHint = "the servers were started by an eng/servers.sh without the Redis Cluster; run eng/servers.sh stop, then eng/servers.sh start (with the same COORD_* ports; COORD_CLUSTER_PORTS picks the cluster's, default 6400-6405)";

    private readonly string? _sentinel;
    private readonly string? _sentinelService;
    private readonly string? _sentinelRedis;
    private readonly string? _redisCluster;
    private readonly IReadOnlyDictionary<string, string> _values;

    private static readonly Lazy<TestServers> LazyCurrent = new(() => Load(Environment.GetEnvironmentVariable, AppContext.BaseDirectory));

    private TestServers(IReadOnlyDictionary<string, string> values, string source)
    {
        Source = source;
        _values = values;
        Redis = Required(values, "COORD_REDIS", source);
        ZooKeeper = Required(values, "COORD_ZK", source);
        ZooKeeperEnsemble = Required(values, "COORD_ZK_ENSEMBLE", source);
        RedisPort = PortOf(Redis, "COORD_REDIS", source);
        ZooKeeperPort = PortOf(ZooKeeper, "COORD_ZK", source);
        EnsemblePorts = ZooKeeperEnsemble.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(hp => PortOf(hp, "COORD_ZK_ENSEMBLE", source))
            .ToArray();
        if (EnsemblePorts.Count != 3)
        {
            throw new InvalidOperationException($"COORD_ZK_ENSEMBLE='{ZooKeeperEnsemble}' (from {source}) must list 3 servers.");
        }

        _sentinel = Optional(values, "COORD_SENTINEL");
        _sentinelService = Optional(values, "COORD_SENTINEL_SERVICE");
        _sentinelRedis = Optional(values, "COORD_SENTINEL_REDIS");
        _redisCluster = Optional(values, "COORD_REDIS_CLUSTER");
        ServersDirectory = values.TryGetValue("COORD_SERVERS_DIR", out var dir) && dir.Length > 0 ? dir : null;
        RepoRoot = values.TryGetValue("COORD_REPO_ROOT", out var root) && root.Length > 0 ? root : null;
    }

    /// <summary>The endpoints of the running servers, loaded once per process.</summary>
    /// <exception cref="InvalidOperationException">No endpoints were found: the servers are not running.</exception>
    public static TestServers Current => LazyCurrent.Value;

    /// <summary>Where the endpoints were read from (environment or a file path), for error messages.</summary>
    public string Source { get; }

    /// <summary>Redis as a StackExchange.Redis endpoint, e.g. <c>127.0.0.1:6390</c>.</summary>
    public string Redis { get; }

    /// <summary>The standalone ZooKeeper, e.g. <c>127.0.0.1:2191</c>.</summary>
    public string ZooKeeper { get; }

    /// <summary>The 3-node ensemble, e.g. <c>127.0.0.1:2192,127.0.0.1:2193,127.0.0.1:2194</c>.</summary>
    public string ZooKeeperEnsemble { get; }

    /// <summary>The Redis Sentinel of the Sentinel group, e.g. <c>127.0.0.1:26391</c>.</summary>
    /// <exception cref="InvalidOperationException">COORD_SENTINEL is missing; the message says how to get it.</exception>
    public string Sentinel => _sentinel ?? throw MissingSentinel("COORD_SENTINEL");

    /// <summary>The name the sentinel monitors the group under, e.g. <c>coordination</c>.</summary>
    public string SentinelService => _sentinelService ?? throw MissingSentinel("COORD_SENTINEL_SERVICE");

    /// <summary>A StackExchange.Redis configuration string that follows the group's master through the sentinel.</summary>
    public string SentinelRedis => $"{Sentinel},serviceName={SentinelService}";

    /// <summary>The sentinel's port.</summary>
    public int SentinelPort => PortOf(Sentinel, "COORD_SENTINEL", Source);

    /// <summary>The group's two Redis data nodes; node n (1, 2) is at index n - 1, node 1 is the master of a cold start.</summary>
    public IReadOnlyList<int> SentinelNodePorts =>
        (_sentinelRedis ?? throw MissingSentinel("COORD_SENTINEL_REDIS"))
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(hp => PortOf(hp, "COORD_SENTINEL_REDIS", Source))
            .ToArray() is { Length: 2 } ports
            ? ports
            : throw new InvalidOperationException($"COORD_SENTINEL_REDIS='{_sentinelRedis}' (from {Source}) must list 2 servers.");

    /// <summary>
    /// The Redis Cluster's nodes (3 masters, 3 replicas) as a StackExchange.Redis configuration string, e.g.
    /// <c>127.0.0.1:6400,...,127.0.0.1:6405</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">COORD_REDIS_CLUSTER is missing; the message says how to get it.</exception>
    public string RedisCluster => _redisCluster ?? throw new InvalidOperationException($"COORD_REDIS_CLUSTER is missing from {Source}: {ClusterHint}.");

    /// <summary>The cluster nodes' ports (6), in the order eng/servers.sh created them.</summary>
    public IReadOnlyList<int> RedisClusterPorts =>
        RedisCluster.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(hp => PortOf(hp, "COORD_REDIS_CLUSTER", Source))
            .ToArray() is { Length: 6 } ports
            ? ports
            : throw new InvalidOperationException($"COORD_REDIS_CLUSTER='{_redisCluster}' (from {Source}) must list 6 servers.");

    /// <summary>The secure ZooKeeper's TLS port (secureClientPort), e.g. <c>127.0.0.1:2196</c>; its certificate names localhost and 127.0.0.1.</summary>
    public string ZooKeeperTls => Secure("COORD_ZK_TLS");

    /// <summary>The secure ZooKeeper's plain port (same server and data as <see cref="ZooKeeperTls"/>).</summary>
    public string ZooKeeperTlsPlain => Secure("COORD_ZK_TLS_PLAIN");

    /// <summary>The secure Redis's TLS port (ACL user <see cref="RedisAclUser"/>; the default user is off).</summary>
    public string RedisTls => Secure("COORD_REDIS_TLS");

    /// <summary>The secure Redis's plain port (ACL user <see cref="RedisAclUser"/>; the default user is off).</summary>
    public string RedisAcl => Secure("COORD_REDIS_ACL");

    /// <summary>The secure Redis's ACL user; it may use keys and channels under <c>coord:</c> and <c>webapp:</c> only.</summary>
    public string RedisAclUser => Secure("COORD_REDIS_ACL_USER");

    /// <summary>That user's password.</summary>
    public string RedisAclPassword => Secure("COORD_REDIS_ACL_PASSWORD");

    /// <summary>Digest credentials (<c>webapp:&lt;random&gt;</c>) for a stable ZooKeeper identity across runs (the sample's).</summary>
    public string ZooKeeperAuth => Secure("COORD_ZK_AUTH");

    /// <summary>The PEM file of the test CA that signed both secure servers' and the client's certificates.</summary>
    public string TlsCaFile => Secure("COORD_TLS_CA");

    /// <summary>The client certificate (PEM; x509 identity <c>CN=coordination-client,O=Coordination</c> on ZooKeeper).</summary>
    public string TlsClientCertificateFile => Secure("COORD_TLS_CLIENT_CERT");

    /// <summary>The client certificate's key (PEM).</summary>
    public string TlsClientKeyFile => Secure("COORD_TLS_CLIENT_KEY");

    /// <summary>True when the endpoints name a Redis Cluster.</summary>
    public bool HasRedisCluster => _redisCluster is not null;

    /// <summary>True when the endpoints name a Sentinel group.</summary>
    public bool HasSentinel => _sentinel is not null && _sentinelService is not null && _sentinelRedis is not null;

    /// <summary>The Redis port.</summary>
    public int RedisPort { get; }

    /// <summary>The standalone ZooKeeper's client port.</summary>
    public int ZooKeeperPort { get; }

    /// <summary>The ensemble members' client ports; member n (1..3) is at index n - 1.</summary>
    public IReadOnlyList<int> EnsemblePorts { get; }

    /// <summary>eng/servers.sh's state directory (pid files, logs), or null when only environment variables named the endpoints.</summary>
    public string? ServersDirectory { get; }

    /// <summary>The repository whose eng/servers.sh started the servers, when known.</summary>
    public string? RepoRoot { get; }

    /// <summary>The client port of ensemble member <paramref name="member"/> (1..3).</summary>
    public int EnsemblePort(int member) => EnsemblePorts[CheckMember(member) - 1];

    /// <summary>The standalone server's connection string with <paramref name="chroot"/> appended, e.g. <c>127.0.0.1:2191/t-abc</c>.</summary>
    public string ZooKeeperWithChroot(string chroot) => ZooKeeper + CheckChroot(chroot);

    /// <summary>The ensemble's connection string with <paramref name="chroot"/> appended.</summary>
    public string ZooKeeperEnsembleWithChroot(string chroot) => ZooKeeperEnsemble + CheckChroot(chroot);

    /// <summary>Builds the endpoints from <c>COORD_*</c> values (environment variables or endpoints.env lines).</summary>
    public static TestServers FromValues(IReadOnlyDictionary<string, string> values, string source)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new TestServers(values, source);
    }

    /// <summary>Finds the endpoints as <see cref="Current"/> does, with the environment and start folder given.</summary>
    public static TestServers Load(Func<string, string?> environment, string startDirectory)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!string.IsNullOrEmpty(environment("COORD_REDIS")) && !string.IsNullOrEmpty(environment("COORD_ZK")) && !string.IsNullOrEmpty(environment("COORD_ZK_ENSEMBLE")))
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in new[]
            {
                "COORD_REDIS", "COORD_ZK", "COORD_ZK_ENSEMBLE", "COORD_SENTINEL", "COORD_SENTINEL_SERVICE", "COORD_SENTINEL_REDIS", "COORD_REDIS_CLUSTER", "COORD_SERVERS_DIR", "COORD_REPO_ROOT",
                "COORD_ZK_TLS", "COORD_ZK_TLS_PLAIN", "COORD_REDIS_TLS", "COORD_REDIS_ACL", "COORD_REDIS_ACL_USER", "COORD_REDIS_ACL_PASSWORD", "COORD_TLS_CA", "COORD_TLS_CLIENT_CERT", "COORD_TLS_CLIENT_KEY", "COORD_ZK_AUTH",
            })
            {
                if (environment(name) is { Length: > 0 } value)
                {
                    values[name] = value;
                }
            }

            return new TestServers(values, "environment variables COORD_*");
        }

        var serversDir = environment("COORD_SERVERS_DIR");
        if (!string.IsNullOrEmpty(serversDir))
        {
            var file = Path.Combine(serversDir, EndpointsFileName);
            if (!File.Exists(file))
            {
                throw new InvalidOperationException($"The test servers are not running: COORD_SERVERS_DIR='{serversDir}' holds no {EndpointsFileName}; {Hint}.");
            }

            return FromFile(file);
        }

        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            var file = Path.Combine(dir.FullName, ".servers", EndpointsFileName);
            if (File.Exists(file))
            {
                return FromFile(file);
            }
        }

        throw new InvalidOperationException($"The test servers are not running: no COORD_* environment variables and no .servers/{EndpointsFileName} above '{startDirectory}'; {Hint}.");
    }

    /// <summary>Parses dotenv/shell lines <c>NAME=value</c> (blank lines and <c>#</c> comments skipped, one level of quotes removed).</summary>
    public static IReadOnlyDictionary<string, string> ParseEnvFile(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }

            var value = line[(eq + 1)..];
            if (value.Length >= 2 && (value[0] == '\'' || value[0] == '"') && value[^1] == value[0])
            {
                value = value[1..^1];
                if (raw.Contains('\'', StringComparison.Ordinal))
                {
                    // eng/servers.sh writes an embedded single quote as '\'' inside single quotes.
                    value = value.Replace("'\\''", "'", StringComparison.Ordinal);
                }
            }

            values[line[..eq]] = value;
        }

        return values;
    }

    internal static int CheckMember(int member) =>
        member is >= 1 and <= 3 ? member : throw new ArgumentOutOfRangeException(nameof(member), member, "The ensemble has members 1, 2 and 3.");

    private static TestServers FromFile(string file) => new(ParseEnvFile(File.ReadAllText(file)), file);

    private static string CheckChroot(string chroot)
    {
        ArgumentException.ThrowIfNullOrEmpty(chroot);
        return chroot[0] == '/' && chroot.Length > 1 && chroot[^1] != '/'
            ? chroot
            : throw new ArgumentException($"The chroot '{chroot}' must start with '/' and not end with '/'.", nameof(chroot));
    }

    private static string? Optional(IReadOnlyDictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    private string Secure(string name) =>
        _values.TryGetValue(name, out var value) && value.Length > 0 ? value : throw new InvalidOperationException($"{name} is missing from {Source}: {SecureHint}.");

    private InvalidOperationException MissingSentinel(string name) => new($"{name} is missing from {Source}: {SentinelHint}.");

    private static string Required(IReadOnlyDictionary<string, string> values, string name, string source) =>
        values.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new InvalidOperationException($"{name} is missing from {source}; {Hint}.");

    private static int PortOf(string hostPort, string name, string source)
    {
        var colon = hostPort.LastIndexOf(':');
        return colon > 0 && int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw new InvalidOperationException($"{name}='{hostPort}' (from {source}) is not host:port.");
    }
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Coordination.Configuration;

/// <summary>
/// Configuration stored in a ZooKeeper subtree and cached in Redis. Added with <c>builder.Configuration.AddZooKeeper(...)</c>,
/// it owns its connections because configuration is built before dependency injection.
/// </summary>
/// <remarks>
/// Mapping: node <c>{Path}/Payments/Retries</c> with data <c>3</c> is key <c>Payments:Retries</c> = <c>3</c>. A node whose
/// data starts with <c>{</c> or <c>[</c> holds a JSON document flattened under the node's key like the JSON file provider
/// (<c>{Path}/Payments</c> = <c>{"Retries":3}</c> is also <c>Payments:Retries</c>). When both exist the deeper node wins.
/// Empty data only groups children; plain data on the root node is ignored. Malformed data keeps the last good value.
/// </remarks>
public sealed class ZooKeeperConfigurationSource : IConfigurationSource
{
    private readonly ZooKeeperConfigurationProvider? _provider;

    /// <summary>Creates a source with its own connections from <paramref name="options"/> (validated here).</summary>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public ZooKeeperConfigurationSource(ZooKeeperConfigurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(needsServers: true);
        Options = options.Clone();
    }

    internal ZooKeeperConfigurationSource(ZooKeeperConfigurationProvider provider, ZooKeeperConfigurationOptions options)
    {
        _provider = provider;
        Options = options;
    }

    /// <summary>The source's options (a copy of those given).</summary>
    public ZooKeeperConfigurationOptions Options { get; }

    /// <summary>Creates the provider (and its connections); its <c>Load</c> reads Redis, then ZooKeeper.</summary>
    public IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        if (_provider is not null)
        {
            return _provider;
        }

        var loggerFactory = Options.LoggerFactory ?? NullLoggerFactory.Instance;
        var connections = new CoordinationConnections(Microsoft.Extensions.Options.Options.Create(new HybridCoordinationOptions
        {
            ZooKeeper = Options.ZooKeeper,
            Redis = string.IsNullOrWhiteSpace(Options.Redis) ? null : Options.Redis,
            RedisPrefix = Options.RedisPrefix,
            SessionTimeout = Options.SessionTimeout,
            ConnectTimeout = Options.ConnectTimeout,
            OperationTimeout = Options.OperationTimeout,
            ZooKeeperAuth = Options.ZooKeeperAuth,
            ZooKeeperTls = Options.ZooKeeperTls,
            RedisTls = Options.RedisTls,
        }), loggerFactory);
        var logger = loggerFactory.CreateLogger<ZooKeeperConfigurationProvider>();
        return new ZooKeeperConfigurationProvider(new ConfigurationStore(Options, connections, ownsConnections: true, logger), logger);
    }
}

using Coordination.ZooKeeper;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The process-wide Redis multiplexer and ZooKeeper session that every Coordination feature shares, for code that
/// needs the same connections (a dashboard, a health probe, your own Redis commands). Resolve it from DI; the library
/// creates exactly one per container, so nothing opens a second session.
/// </summary>
public interface ICoordinationConnections
{
    /// <summary>The options the connections were made with.</summary>
    HybridCoordinationOptions Options { get; }

    /// <summary>True when Redis is configured and currently connected.</summary>
    bool IsRedisConnected { get; }

    /// <summary>The current ZooKeeper client if one was created (it may be reconnecting), else null.</summary>
    ZooKeeperClient? ZooKeeperIfCreated { get; }

    /// <summary>Raised after an expired ZooKeeper session was replaced by a new one.</summary>
    event EventHandler<ZooKeeperClient>? ZooKeeperSessionReplaced;

    /// <summary>Raised when the current ZooKeeper client changes state.</summary>
    event EventHandler<ZooKeeperStateChangedEventArgs>? ZooKeeperStateChanged;

    /// <summary>The shared multiplexer, created on first call; it fails fast while disconnected.</summary>
    /// <exception cref="InvalidOperationException">Redis is not configured.</exception>
    Task<IConnectionMultiplexer> GetRedisAsync();

    /// <summary>The current ZooKeeper client (replaced after a session expiry), created on first call.</summary>
    /// <exception cref="InvalidOperationException">ZooKeeper is not configured.</exception>
    ZooKeeperClient GetZooKeeper();
}

namespace Coordination.Configuration;

/// <summary>Where the values of a ZooKeeper configuration source currently come from.</summary>
public enum ZooKeeperConfigurationState
{
    /// <summary>Nothing loaded yet: neither ZooKeeper nor the Redis copy could be read (an Optional source). Unhealthy.</summary>
    Empty,
    /// <summary>
    /// ZooKeeper is unreachable: the last known values (from the Redis copy, or loaded before the connection dropped) are
    /// served and changes arrive through Redis pub/sub only. Degraded.
    /// </summary>
    Cached,
    /// <summary>Loaded from ZooKeeper and watched: changes arrive as they happen. Healthy.</summary>
    Live,
}

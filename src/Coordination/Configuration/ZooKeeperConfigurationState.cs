namespace Coordination.Configuration;

/// <summary>Where the values of a ZooKeeper configuration source currently come from.</summary>
public enum ZooKeeperConfigurationState
{
    /// <summary>Nothing loaded yet: neither ZooKeeper nor the Redis copy could be read (an Optional source). Unhealthy.</summary>
    Empty,
    /// <summary>Served from the Redis copy because ZooKeeper is unreachable; changes arrive through Redis pub/sub only. Degraded.</summary>
    Cached,
    /// <summary>Loaded from ZooKeeper and watched: changes arrive as they happen. Healthy.</summary>
    Live,
}

namespace Coordination.Configuration;

/// <summary>
/// Writes configuration for admin tools: ZooKeeper first (the authority, with optimistic concurrency and digest ACLs),
/// then the Redis copy if its version is older, then a pub/sub message so every instance refreshes.
/// </summary>
public interface IZooKeeperConfigurationWriter
{
    /// <summary>The root znode written to, e.g. <c>/config/orders</c>.</summary>
    string Path { get; }

    /// <summary>Reads a key's raw value and version straight from ZooKeeper, or null when the node does not exist.</summary>
    Task<ZooKeeperConfigurationEntry?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets <paramref name="key"/> (creating the node and its parents) and returns the node's new version.
    /// <paramref name="expectedVersion"/>: null = whatever is there; -1 = the key must not exist; n &gt;= 0 = the node must be at version n.
    /// </summary>
    /// <exception cref="ConfigurationConflictException">The node is not at <paramref name="expectedVersion"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">The node's ACL denies this writer.</exception>
    Task<int> SetAsync(string key, string value, int? expectedVersion = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes <paramref name="key"/>'s node (it must have no children); false when it did not exist and no version was expected.</summary>
    /// <exception cref="ConfigurationConflictException">The node is not at <paramref name="expectedVersion"/> or is missing.</exception>
    /// <exception cref="UnauthorizedAccessException">The parent's ACL denies this writer.</exception>
    Task<bool> DeleteAsync(string key, int? expectedVersion = null, CancellationToken cancellationToken = default);
}

namespace Coordination.Testing;

/// <summary>
/// The name of the xunit collection for tests that fail over the Redis Cluster: they must not run alongside each
/// other. Each test project that has such tests declares, once:
/// <code>
/// [CollectionDefinition(RedisClusterCollection.Name, DisableParallelization = true)]
/// public sealed class RedisClusterCollectionDefinition : ICollectionFixture&lt;RedisClusterFixture&gt;;
/// </code>
/// and marks the test classes <c>[Collection(RedisClusterCollection.Name)]</c>.
/// </summary>
public static class RedisClusterCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "Redis Cluster failover";
}

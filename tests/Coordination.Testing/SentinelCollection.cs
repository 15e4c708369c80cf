namespace Coordination.Testing;

/// <summary>
/// The name of the xunit collection for tests that fail over the Redis Sentinel group: they must not run alongside
/// each other (nor alongside anything else). Each test project that has such tests declares, once:
/// <code>
/// [CollectionDefinition(SentinelCollection.Name, DisableParallelization = true)]
/// public sealed class SentinelCollectionDefinition : ICollectionFixture&lt;SentinelFixture&gt;;
/// </code>
/// and marks the test classes <c>[Collection(SentinelCollection.Name)]</c>.
/// </summary>
public static class SentinelCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "Sentinel failover";
}

using Coordination.Tests.Locks;

namespace Coordination.Tests.Cluster;

/// <summary>The lock conformance suite in Hybrid mode with its Redis side on the Redis Cluster.</summary>
public sealed class ClusterHybridLockTests : HybridLockTests
{
    protected override string Redis => TestEnv.RedisCluster;

    protected override StackExchange.Redis.IDatabase RedisDb => TestEnv.ClusterDb;
}

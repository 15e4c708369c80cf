using Coordination.Tests.Locks;

namespace Coordination.Tests.Cluster;

/// <summary>The lock conformance suite in RedisOnly mode on the Redis Cluster (3 masters): one lock's keys share a hash tag.</summary>
public sealed class ClusterRedisOnlyLockTests : RedisOnlyLockTests
{
    protected override string Redis => TestEnv.RedisCluster;

    protected override StackExchange.Redis.IDatabase RedisDb => TestEnv.ClusterDb;
}

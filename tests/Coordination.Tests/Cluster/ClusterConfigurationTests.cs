using Coordination.Configuration;
using Coordination.Testing;
using static Coordination.Tests.Configuration.ConfigTestEnvironment;

namespace Coordination.Tests.Cluster;

/// <summary>The ZooKeeper configuration source with its Redis copy and change channel on the Redis Cluster.</summary>
public sealed class ClusterConfigurationTests
{
    [Fact]
    public async Task ConfigurationCache_OnTheCluster_StoresTheCopy_AndTellsTheOtherInstances()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "1");
        using var writerSide = Build(Options(root, prefix, redis: TestEnv.RedisCluster));
        using var readerSide = Build(Options(root, prefix, redis: TestEnv.RedisCluster));
        var cache = Provider(writerSide).Store.Cache!;
        var changes = RecordChanges(readerSide);
        await Poll.UntilAsync(async () => (await cache.ReadAsync())?.Data.GetValueOrDefault("Payments:Retries") == "1", "the Redis copy holds the first value");

        await Provider(writerSide).Writer.SetAsync("Payments:Gateway", "b");

        await Poll.UntilAsync(() => readerSide["Payments:Gateway"] == "b" && changes.Contains("Payments:Gateway"), "the other instance is told about the write", TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(
            async () =>
            {
                var json = (string?)await TestEnv.ClusterDb.HashGetAsync(cache.Key, "snapshot");
                return json is not null && ConfigurationSnapshot.FromJson(json).Data.GetValueOrDefault("Payments:Gateway") == "b";
            },
            "the cluster's Redis copy holds the written value");
    }

    [Fact]
    public async Task ConfigurationCache_OnTheCluster_ServesAStartWithZooKeeperDown()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "7");
        using (var first = Build(Options(root, prefix, redis: TestEnv.RedisCluster)))
        {
            var cache = Provider(first).Store.Cache!;
            await Poll.UntilAsync(async () => (await cache.ReadAsync())?.Data.GetValueOrDefault("Payments:Retries") == "7", "the Redis copy is written");
        }

        using var degraded = Build(Options(root, prefix, zooKeeper: ClosedEndpoint(), redis: TestEnv.RedisCluster));

        Assert.Equal("7", degraded["Payments:Retries"]);
    }
}

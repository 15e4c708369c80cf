using Coordination.Configuration;
using Coordination.Testing;
using static Coordination.Tests.Configuration.ConfigTestEnvironment;

namespace Coordination.Tests.Sentinel;

/// <summary>The ZooKeeper configuration source with its Redis cache on a Sentinel group, across a failover.</summary>
[Collection(SentinelCollection.Name)]
public sealed class SentinelConfigurationTests(SentinelFixture fixture)
{
    [Fact]
    public async Task ConfigurationCache_AfterSentinelFailover_ReachesSubscribers_AndTheNewMasterGetsTheFreshValue()
    {
        var group = fixture.Group;
        await group.WaitHealthyAsync();
        var root = NewRoot();
        var prefix = NewPrefix();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "1");
        using var writerSide = Build(Options(root, prefix, redis: group.ConnectionString));
        using var readerSide = Build(Options(root, prefix, redis: group.ConnectionString));
        var cache = Provider(writerSide).Store.Cache!;
        var changes = RecordChanges(readerSide);
        await Poll.UntilAsync(async () => (await cache.ReadAsync())?.Data.GetValueOrDefault("Payments:Retries") == "1", "the Redis copy holds the first value");

        var promoted = await group.FailoverAsync();

        // A change made in ZooKeeper by someone else, and one written through the source (which publishes on Redis).
        await PutAsync(zk, root + "/Payments/Retries", "2");
        await Poll.UntilAsync(() => writerSide["Payments:Retries"] == "2" && readerSide["Payments:Retries"] == "2", "both instances see the ZooKeeper change", TimeSpan.FromSeconds(60));
        await Provider(writerSide).Writer.SetAsync("Payments:Gateway", "b");
        await Poll.UntilAsync(() => readerSide["Payments:Gateway"] == "b" && changes.Contains("Payments:Gateway"), "the other instance is told about the write", TimeSpan.FromSeconds(60));
        await using var master = await SentinelGroup.ConnectNodeAsync(promoted);
        await Poll.UntilAsync(
            async () =>
            {
                var json = (string?)await master.GetDatabase().HashGetAsync(cache.Key, "snapshot");
                return json is not null
                    && ConfigurationSnapshot.FromJson(json).Data is var data
                    && data.GetValueOrDefault("Payments:Retries") == "2"
                    && data.GetValueOrDefault("Payments:Gateway") == "b";
            },
            "the promoted master's Redis copy holds the fresh values",
            TimeSpan.FromSeconds(60));
    }
}

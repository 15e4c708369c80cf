using Coordination.Locks;
using Coordination.Testing;
using Coordination.Tests.Locks;

namespace Coordination.Tests.Sentinel;

/// <summary>
/// Locks whose Redis is a Sentinel group (<c>host:port,serviceName=...</c>) across a failover. The counters and
/// overlap bookkeeping live on the plain test Redis, which does not fail over.
/// </summary>
[Collection(SentinelCollection.Name)]
public sealed class SentinelLockTests(SentinelFixture fixture)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private SentinelGroup Group => fixture.Group;

    [Fact]
    public async Task Hybrid_AcrossSentinelFailover_KeepsExclusionAndFencing_AndKeepsGranting()
    {
        await Group.WaitHealthyAsync();
        var prefix = "t" + TestNamespace.NewId() + ":";
        var root = "/t" + TestNamespace.NewId();
        const string Key = "failover-key";
        var nodes = new List<LockNode>();
        for (var i = 0; i < 3; i++)
        {
            nodes.Add(new LockNode(LockMode.Hybrid, prefix, root, o => o.Redis = Group.ConnectionString));
        }

        // Two more contenders in their own OS processes, sharing the counter and last token on the plain Redis.
        var workers = Enumerable.Range(0, 2)
            .Select(_ => MultiProcessTests.StartWorker("hammer", nameof(LockMode.Hybrid), Group.ConnectionString, TestEnv.ZooKeeper, prefix, root, Key, "2", "60", TestEnv.Redis))
            .ToList();
        var hammer = new LockHammer(nodes, Key, prefix);
        try
        {
            await hammer.GrantsAsync(20, Settle, "20 grants before the failover");
            var master = await Group.GetMasterPortAsync();

            var promoted = await Group.FailoverAsync();

            Assert.NotEqual(master, promoted);
            await hammer.GrantsAsync(20, Settle, "20 more grants after the failover");
            await MultiProcessTests.AssertHammerWorkersDoneAsync(workers);

            await hammer.StopAsync();

            Assert.Equal(0, hammer.Overlaps);
            Assert.Equal(0, hammer.StaleTokens);
            Assert.Equal(hammer.Grants + (2 * 2 * 60), await hammer.CounterAsync());
        }
        finally
        {
            foreach (var w in workers.Where(w => !w.HasExited))
            {
                w.Kill(true);
            }

            await hammer.DisposeAsync();
            foreach (var n in nodes)
            {
                await n.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The documented weakness of RedisOnly mode, shown deterministically: Redis replicates asynchronously, so a lock
    /// record the master has not yet applied on its replica is gone once the replica is promoted. CLIENT PAUSE WRITE
    /// on the replica holds back applying the replication stream, which pins down a window that otherwise lasts
    /// microseconds; when the master then dies, the replica drops what it held back, and the sentinel promotes it.
    /// </summary>
    [Fact]
    public async Task RedisOnly_AcrossSentinelFailoverWithUnreplicatedRecord_CanGrantTwice()
    {
        await Group.WaitHealthyAsync();
        var prefix = "t" + TestNamespace.NewId() + ":";
        const string Key = "double-grant";
        var oldMaster = await Group.GetMasterPortAsync();
        var replicaPort = await Group.GetReplicaPortAsync();
        await using var replica = await SentinelGroup.ConnectNodeAsync(replicaPort);
        var replicaServer = replica.GetServer(replica.GetEndPoints()[0]);
        await using var first = new LockNode(LockMode.RedisOnly, prefix, "/unused", RedisOnly);
        await using var second = new LockNode(LockMode.RedisOnly, prefix, "/unused", RedisOnly);
        var record = RedisLockRecord.RecordKey(prefix, Key);
        await first.Connections.GetRedisAsync(); // both connected while the master lives, as running instances would be
        await second.Connections.GetRedisAsync();
        await replicaServer.ExecuteAsync("CLIENT", "PAUSE", "30000", "WRITE");
        try
        {
            await using var held = await first.Locks.AcquireAsync(Key, TimeSpan.FromSeconds(10));
            await using (var master = await SentinelGroup.ConnectNodeAsync(oldMaster))
            {
                Assert.True(await master.GetDatabase().KeyExistsAsync(record));
            }

            Assert.False(await replica.GetDatabase().KeyExistsAsync(record));

            await Group.StopNodeAsync(Group.NodeOf(oldMaster));
            await Poll.UntilAsync(
                async () => (await replicaServer.InfoRawAsync("replication") ?? "").Contains("master_link_status:down", StringComparison.Ordinal),
                Settle,
                "the replica notices its master is gone");
            await UnpauseAsync(replicaServer);
            await Poll.UntilAsync(async () => await Group.GetMasterPortAsync() == replicaPort, Settle, "the sentinel promotes the replica");

            // The promoted master never applied the record (nor the fencing counter): a second holder is granted the
            // same key while the first still believes it holds it, with the same fencing token.
            IDistributedLockHandle? twice = null;
            await Poll.UntilAsync(async () => (twice = await second.Locks.TryAcquireAsync(Key)) is not null, Settle, "a second holder is granted the key on the promoted master");
            await using var _ = twice!;
            Assert.False(held.LostToken.IsCancellationRequested);
            Assert.Equal(held.FencingToken, twice!.FencingToken);

            // The first holder learns it only at its next lease extension (every lease/3), long after the overlap began.
            await Poll.UntilAsync(() => held.LostToken.IsCancellationRequested, Settle, "the first holder's LostToken fires");
            await Group.StartNodeAsync(Group.NodeOf(oldMaster));
        }
        finally
        {
            await UnpauseAsync(replicaServer);
            await Group.EnsureHealthyAsync();
        }
    }

    private static void RedisOnly(HybridCoordinationOptions o)
    {
        o.Redis = TestServers.Current.SentinelRedis;
        // Long enough that the first holder's watchdog (every lease/3) does not run between the failover and the second grant.
        o.RedisLease = TimeSpan.FromSeconds(60);
    }

    // The sentinel's CLIENT KILL TYPE normal on the promoted node drops this connection too: retry until it is back.
    private static Task UnpauseAsync(StackExchange.Redis.IServer server) =>
        Poll.UntilAsync(
            async () =>
            {
                await server.ExecuteAsync("CLIENT", "UNPAUSE");
                return true;
            },
            Settle,
            "CLIENT UNPAUSE reaches the replica");
}

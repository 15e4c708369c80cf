using Coordination.Locks;
using Coordination.Testing;
using Coordination.Tests.Locks;
using StackExchange.Redis;

namespace Coordination.Tests.Cluster;

/// <summary>
/// Locks whose Redis is the Redis Cluster across a master failover (<c>CLUSTER FAILOVER</c> on the replica of the
/// master serving the lock's slot). The counters and overlap bookkeeping live on the plain test Redis.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterFailoverLockTests(RedisClusterFixture fixture)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private RedisClusterGroup Cluster => fixture.Cluster;

    /// <summary>
    /// A manual failover of the master serving the lock's slot under load (3 nodes x 2 contenders). Hybrid: ZooKeeper
    /// decides, so exclusion, token order and grants carry on whatever Redis does. RedisOnly: a manual failover lets the
    /// replica catch up before it takes over, so no record is lost; while the slot moves callers get either a grant or
    /// <see cref="LockUnavailableException"/> (fail closed), never a raw client exception. The crash case is the next test.
    /// </summary>
    [Theory]
    [InlineData(LockMode.Hybrid)]
    [InlineData(LockMode.RedisOnly)]
    public async Task ManualClusterFailover_UnderLoad_KeepsExclusionAndFencing_AndKeepsGranting(LockMode mode)
    {
        await Cluster.WaitHealthyAsync();
        var prefix = "t" + TestNamespace.NewId() + ":";
        var root = "/t" + TestNamespace.NewId();
        const string Key = "failover-key";
        var nodes = Enumerable.Range(0, 3).Select(_ => new LockNode(mode, prefix, root, o => o.Redis = Cluster.ConnectionString)).ToList();
        var hammer = new LockHammer(nodes, Key, prefix, tolerateUnavailable: mode == LockMode.RedisOnly);
        try
        {
            await hammer.GrantsAsync(20, Settle, "20 grants before the failover");
            var master = await Cluster.GetMasterPortOfAsync(RedisLockRecord.RecordKey(prefix, Key));

            var promoted = await Cluster.FailoverAsync(master);

            Assert.NotEqual(master, promoted);
            Assert.Equal(promoted, await Cluster.GetMasterPortOfAsync(RedisLockRecord.RecordKey(prefix, Key)));
            await hammer.GrantsAsync(20, Settle, "20 more grants after the failover");
            await hammer.StopAsync(); // any exception other than the cancellation (a raw Redis one included) fails here

            Assert.Equal(0, hammer.Overlaps);
            Assert.Equal(0, hammer.StaleTokens);
            Assert.Equal(hammer.Grants, await hammer.CounterAsync());
        }
        finally
        {
            await hammer.DisposeAsync();
            foreach (var n in nodes)
            {
                await n.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The documented weakness of RedisOnly mode on a cluster, shown deterministically: a failover that does not wait
    /// for the replica (<c>CLUSTER FAILOVER TAKEOVER</c>, as after a master crash) loses what the replica had not
    /// applied. CLIENT PAUSE WRITE on the replica holds back applying the replication stream, so the record and the
    /// fencing counter are on the old master only when the replica takes over.
    /// </summary>
    [Fact]
    public async Task RedisOnly_AcrossClusterTakeoverWithUnreplicatedRecord_CanGrantTwice()
    {
        await Cluster.WaitHealthyAsync();
        var prefix = "t" + TestNamespace.NewId() + ":";
        const string Key = "double-grant";
        var record = RedisLockRecord.RecordKey(prefix, Key);
        var oldMaster = await Cluster.GetMasterPortOfAsync(record);
        await using var first = new LockNode(LockMode.RedisOnly, prefix, "/unused", RedisOnly);
        await using var second = new LockNode(LockMode.RedisOnly, prefix, "/unused", RedisOnly);
        await second.Connections.GetRedisAsync();
        await using var admin = await Cluster.ConnectAsync();
        var replicaPort = await ReplicaOfAsync(admin, oldMaster);
        var replica = admin.GetServer("127.0.0.1", replicaPort);
        await replica.ExecuteAsync("CLIENT", "PAUSE", "30000", "WRITE");
        try
        {
            await using var held = await first.Locks.AcquireAsync(Key, TimeSpan.FromSeconds(10));
            Assert.True(await admin.GetServer("127.0.0.1", oldMaster).ExecuteAsync("EXISTS", record) is var e && (long)e == 1);

            await replica.ExecuteAsync("CLUSTER", "FAILOVER", "TAKEOVER");
            await Poll.UntilAsync(async () => (await replica.InfoRawAsync("replication") ?? "").Contains("role:master", StringComparison.Ordinal), Settle, "the replica takes over");
            await replica.ExecuteAsync("CLIENT", "UNPAUSE");

            // The new master never applied the record (nor the counter): a second holder is granted the key while the
            // first still believes it holds it, with the same fencing token.
            IDistributedLockHandle? twice = null;
            await Poll.UntilAsync(async () => (twice = await TryAsync(second, Key)) is not null, Settle, "a second holder is granted the key on the new master");
            await using var _ = twice!;
            Assert.False(held.LostToken.IsCancellationRequested);
            Assert.Equal(held.FencingToken, twice!.FencingToken);

            // The first holder learns it only at its next lease extension (every lease/3).
            await Poll.UntilAsync(() => held.LostToken.IsCancellationRequested, Settle, "the first holder's LostToken fires");
        }
        finally
        {
            await Poll.UntilAsync(
                async () =>
                {
                    await replica.ExecuteAsync("CLIENT", "UNPAUSE");
                    return true;
                },
                Settle,
                "CLIENT UNPAUSE reaches the replica");
            await Cluster.WaitHealthyAsync();
        }
    }

    private static async Task<IDistributedLockHandle?> TryAsync(LockNode node, string key)
    {
        try
        {
            return await node.Locks.TryAcquireAsync(key);
        }
        catch (LockUnavailableException)
        {
            return null; // the slot is still moving
        }
    }

    private static async Task<int> ReplicaOfAsync(ConnectionMultiplexer admin, int masterPort)
    {
        var nodes = await admin.GetServer("127.0.0.1", masterPort).ClusterNodesAsync() ?? throw new InvalidOperationException("CLUSTER NODES gave no answer.");
        var master = nodes.Nodes.Single(n => n.EndPoint is System.Net.IPEndPoint ep && ep.Port == masterPort);
        return ((System.Net.IPEndPoint)nodes.Nodes.First(n => n.IsReplica && n.ParentNodeId == master.NodeId).EndPoint!).Port;
    }

    private static void RedisOnly(HybridCoordinationOptions o)
    {
        o.Redis = TestServers.Current.RedisCluster;
        // Long enough that the first holder's watchdog (every lease/3) does not run between the takeover and the second grant.
        o.RedisLease = TimeSpan.FromSeconds(60);
    }
}

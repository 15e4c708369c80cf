using System.Diagnostics;
using Coordination.Diagnostics;
using Coordination.Keys;
using Coordination.Locks;
using Coordination.Testing;
using Coordination.ZooKeeper;

namespace Coordination.Tests.Locks;

/// <summary>Behaviour specific to the hybrid protocol (DESIGN.md section 2), on the real servers.</summary>
public sealed class HybridBehaviourTests : LockNodeTests
{
    private string Dir(string key) => Root + "/locks/" + LockKey.ToNodeName(key);

    [Fact]
    public async Task TryOnce_OnAHeldKey_FailsWithoutAnyZooKeeperTraffic()
    {
        var holder = NewNode();
        var key = Key();
        await using var h = await holder.Locks.AcquireAsync(key);
        var record = await TestEnv.RedisDb.StringGetAsync(RedisLockRecord.RecordKey(Prefix, key));
        Assert.StartsWith(((IDistributedLockHandle)h).Key.Length > 0 ? "" : "x", record.ToString());
        await Poll.UntilAsync(async () => (await TestEnv.RedisDb.StringGetAsync(RedisLockRecord.RecordKey(Prefix, key))).ToString().Contains($"\"token\":{h.FencingToken}", StringComparison.Ordinal), "record carries the fencing token");

        var other = NewNode();
        await other.Connections.GetRedisAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(await other.Locks.TryAcquireAsync(key));
        }

        // The contender never even opened a ZooKeeper session: the Redis gate answered.
        Assert.Null(other.Connections.ZooKeeperIfCreated);
    }

    [Fact]
    public async Task Waiters_FromSeveralProcesses_AreGrantedInFifoOrder_ByNotification()
    {
        var holder = NewNode();
        var key = Key();
        var zk = holder.Connections.GetZooKeeper();
        var h = await holder.Locks.AcquireAsync(key);
        var order = new List<int>();
        var waiters = new List<Task>();
        var nodes = new List<LockNode>();
        for (var i = 0; i < 4; i++)
        {
            var n = NewNode();
            nodes.Add(n);
            var id = i;
            waiters.Add(Task.Run(async () =>
            {
                await using var w = await n.Locks.AcquireAsync(key, TimeSpan.FromSeconds(60));
                lock (order)
                {
                    order.Add(id);
                }
            }));
            var expected = i + 2;
            await Poll.UntilAsync(async () => (await zk.GetChildrenAsync(Dir(key))).Children.Count == expected, $"waiter {i} queued");
        }

        await AssertParkedWaitersSendNothingAsync(nodes);

        await h.DisposeAsync();
        await Task.WhenAll(waiters);
        Assert.Equal([0, 1, 2, 3], order);
    }

    [Fact]
    public async Task ManyCallersInOneProcess_PutAtMostOneWaiterOnTheServers()
    {
        var holder = NewNode();
        var crowd = NewNode();
        var key = Key();
        var zk = holder.Connections.GetZooKeeper();
        var h = await holder.Locks.AcquireAsync(key);
        var tasks = Enumerable.Range(0, 20).Select(async _ =>
        {
            await using var x = await crowd.Locks.AcquireAsync(key, TimeSpan.FromSeconds(60));
        }).ToList();
        await Poll.UntilAsync(async () => (await zk.GetChildrenAsync(Dir(key))).Children.Count == 2, "one remote waiter");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(2, (await zk.GetChildrenAsync(Dir(key))).Children.Count);
            await Task.Delay(50);
        }

        await h.DisposeAsync();
        await Task.WhenAll(tasks);
        await Poll.UntilAsync(async () => (await zk.ExistsAsync(Dir(key))) is null || (await zk.GetChildrenAsync(Dir(key))).Children.Count == 0, "queue drained");
    }

    [Fact]
    public async Task SessionExpiry_FiresLostToken_AndAnotherProcessAcquires()
    {
        var holder = NewNode();
        var other = NewNode();
        var key = Key();
        var h = await holder.Locks.AcquireAsync(key);
        var lost = new TaskCompletionSource();
        h.LostToken.Register(() => lost.TrySetResult());
        var zk = holder.Connections.GetZooKeeper();

        await Coordination.Testing.ZooKeeperSessionFaults.ExpireSessionAsync(zk, TestEnv.ZooKeeper);

        await lost.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await using var next = await other.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30));
        Assert.True(next.FencingToken > h.FencingToken);
        await h.DisposeAsync(); // release after loss is harmless and must not release the new holder
        Assert.Null(await NewNode().Locks.TryAcquireAsync(key));
        Assert.False(next.LostToken.IsCancellationRequested);

        // The process got a fresh session and can lock again.
        await using var again = await holder.Locks.TryAcquireAsync(Key());
        Assert.NotNull(again);
    }

    [Fact]
    public async Task SessionExpiry_OfAWaiter_FailsItsWaitWithLockUnavailable_AndTheProcessLocksAgainAfterwards()
    {
        var holder = NewNode();
        var waiter = NewNode();
        var key = Key();
        var h = await holder.Locks.AcquireAsync(key);
        var waiting = waiter.Locks.AcquireAsync(key, TimeSpan.FromSeconds(60)).AsTask();
        var zk = waiter.Connections.GetZooKeeper();
        await Poll.UntilAsync(async () => (await zk.GetChildrenAsync(Dir(key))).Children.Count == 2, "the waiter queued");

        await Coordination.Testing.ZooKeeperSessionFaults.ExpireSessionAsync(zk, TestEnv.ZooKeeper);

        // Not the client's ObjectDisposedException, and not a wait until the timeout: ZooKeeper could not decide.
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(45)));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        await h.DisposeAsync();
        await using var again = await waiter.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30));
        Assert.True(again.FencingToken > h.FencingToken);
    }

    [Fact]
    public async Task Inspector_ListsHeldLocks_WithTokenHolderAndWaiters()
    {
        var holder = NewNode();
        var waiter = NewNode();
        var key = "orders/ü " + TestNamespace.NewId();
        await using var h = await holder.Locks.AcquireAsync(key);
        var waiting = waiter.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30)).AsTask();
        var inspector = new LockInspector(holder.Connections);
        await Poll.UntilAsync(async () => (await inspector.GetHeldLocksAsync()).Any(l => l.Key == key && l.Waiters == 1 && l.Holder is not null), "inspector sees holder and waiter");
        var info = (await inspector.GetHeldLocksAsync()).Single(l => l.Key == key);
        Assert.Equal(h.FencingToken, info.FencingToken);
        Assert.Contains(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), info.Holder, StringComparison.Ordinal);
        await h.DisposeAsync();
        await using var next = await waiting;
        await Poll.UntilAsync(async () => (await inspector.GetHeldLocksAsync()).Single(l => l.Key == key).FencingToken == next.FencingToken, "inspector follows the hand-off");
    }

    [Fact]
    public async Task DeletingTheHoldersNode_FiresLostToken()
    {
        var holder = NewNode();
        var key = Key();
        var h = await holder.Locks.AcquireAsync(key);
        var zk = holder.Connections.GetZooKeeper();
        var children = (await zk.GetChildrenAsync(Dir(key))).Children;
        var admin = NewNode(LockMode.ZooKeeperOnly).Connections.GetZooKeeper();
        await admin.WaitForConnectedAsync(TimeSpan.FromSeconds(10));
        await admin.DeleteAsync(Dir(key) + "/" + children.Single());
        await Poll.UntilAsync(() => h.LostToken.IsCancellationRequested, "LostToken fires");
        await h.DisposeAsync();
    }

    [Fact]
    public async Task RedisStoppedFlushedAndRestarted_ExclusionHolds_DegradedThenRecovers()
    {
        await using var redis = new PrivateRedis();
        await redis.StartAsync();
        var a = NewNode(configure: o => o.Redis = redis.Endpoint + ",connectRetry=1,connectTimeout=500");
        var b = NewNode(configure: o => o.Redis = redis.Endpoint + ",connectRetry=1,connectTimeout=500");
        var key = Key();
        var h = await a.Locks.AcquireAsync(key);
        Assert.Equal(CoordinationHealthMode.Normal, a.Status.Mode);

        // Flushed: the gate is open but ZooKeeper still says the key is held.
        using (var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Endpoint + ",allowAdmin=true"))
        {
            await admin.GetServer(redis.Endpoint).FlushAllDatabasesAsync();
        }

        Assert.Null(await b.Locks.TryAcquireAsync(key));

        // Stopped: both fall back to ZooKeeper alone, report Degraded, and still exclude each other.
        await redis.StopAsync();
        await Poll.UntilAsync(() => !a.Connections.IsRedisConnected && !b.Connections.IsRedisConnected, "Redis seen as down");
        Assert.Null(await b.Locks.TryAcquireAsync(key));
        Assert.Equal(CoordinationHealthMode.Degraded, b.Status.Mode);
        var waiting = b.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30)).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        await h.DisposeAsync();
        await using (var hb = await waiting)
        {
            Assert.True(hb.FencingToken > h.FencingToken);
            Assert.Null(await a.Locks.TryAcquireAsync(key));
        }

        // Restarted: the gate works again and the mode recovers.
        await redis.StartAsync();
        await Poll.UntilAsync(() => a.Connections.IsRedisConnected, "Redis reconnected", TimeSpan.FromSeconds(60));
        await using (var h2 = await a.Locks.AcquireAsync(key, TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(CoordinationHealthMode.Normal, a.Status.Mode);
        }
    }

    [Fact]
    public async Task ZooKeeperUnreachable_FailsClosed_UnlessTheUnsafeFallbackIsOn()
    {
        var deadPort = TestEnv.FreePort();
        var closed = NewNodeWithoutZooKeeper(deadPort);
        var key = Key();
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () => await closed.Locks.TryAcquireAsync(key));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.Equal(CoordinationHealthMode.Unavailable, closed.Status.Mode);
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await closed.Locks.AcquireAsync(key, TimeSpan.FromSeconds(1)));
        // The reservation taken at the gate was given back.
        Assert.False(await TestEnv.RedisDb.KeyExistsAsync(RedisLockRecord.RecordKey(Prefix, key)));

        var unsafeNode = NewNodeWithoutZooKeeper(deadPort, o => o.UnsafeAllowRedisOnlyFallback = true);
        await using var h = await unsafeNode.Locks.TryAcquireAsync(key);
        Assert.NotNull(h);
        Assert.Equal(CoordinationHealthMode.UnsafeRedisOnly, unsafeNode.Status.Mode);
        Assert.True(await TestEnv.RedisDb.KeyExistsAsync(RedisLockRecord.RecordKey(Prefix, key)));
    }
}

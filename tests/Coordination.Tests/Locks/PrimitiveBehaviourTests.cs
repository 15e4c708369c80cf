using Coordination.Testing;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Coordination.Diagnostics;
using Coordination.Keys;
using Coordination.Locks;
using Coordination.ZooKeeper.Tests;

namespace Coordination.Tests.Locks;

/// <summary>Semaphores and reader-writer locks on the hybrid protocol: the gate, FIFO hand-off, layout, loss and faults.</summary>
public sealed class PrimitiveBehaviourTests : LockNodeTests
{
    private string SemaphoreDir(string key) => Root + "/semaphores/" + LockKey.ToNodeName(key);

    private string RwDir(string key) => Root + "/rwlocks/" + LockKey.ToNodeName(key);

    [Fact]
    public async Task TryOnce_OnAFullSemaphore_FailsWithoutAnyZooKeeperTraffic()
    {
        var holder = NewNode();
        var key = Key();
        await using var a = await holder.Semaphores.AcquireAsync(key, 2);
        await using var b = await holder.Semaphores.AcquireAsync(key, 2);
        await Poll.UntilAsync(async () => await TestEnv.RedisDb.HashLengthAsync(Prefix + "{" + key + "}:sem:holders") == 3, "both holders recorded (plus the permit count)");

        var other = NewNode();
        await other.Connections.GetRedisAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(await other.Semaphores.TryAcquireAsync(key, 2));
        }

        // The contender never opened a ZooKeeper session: the counting gate answered.
        Assert.Null(other.Connections.ZooKeeperIfCreated);
    }

    [Fact]
    public async Task TryOnce_OnAWriteLockedKey_FailsWithoutAnyZooKeeperTraffic_ForReadersAndWriters()
    {
        var holder = NewNode();
        var key = Key();
        await using var w = await holder.ReaderWriter.AcquireWriteAsync(key);
        await Poll.UntilAsync(async () => await TestEnv.RedisDb.SortedSetLengthAsync(Prefix + "{" + key + "}:rw:w") == 1, "writer recorded");
        var other = NewNode();
        await other.Connections.GetRedisAsync();
        Assert.Null(await other.ReaderWriter.TryAcquireReadAsync(key));
        Assert.Null(await other.ReaderWriter.TryAcquireWriteAsync(key));
        Assert.Null(other.Connections.ZooKeeperIfCreated);
    }

    [Fact]
    public async Task SemaphoreWaiters_FromSeveralProcesses_AreGrantedInFifoOrder_ByNotification()
    {
        var holders = new[] { NewNode(), NewNode() };
        var key = Key();
        var zk = holders[0].Connections.GetZooKeeper();
        var held = new List<IDistributedLockHandle>();
        foreach (var h in holders)
        {
            held.Add(await h.Semaphores.AcquireAsync(key, 2));
        }

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
                var w = await n.Semaphores.AcquireAsync(key, 2, TimeSpan.FromSeconds(60));
                lock (order)
                {
                    order.Add(id);
                    held.Add(w);
                }
            }));
            var expected = i + 3;
            await Poll.UntilAsync(async () => (await zk.GetChildrenAsync(SemaphoreDir(key))).Children.Count == expected, $"waiter {i} queued");
        }

        await AssertParkedWaitersSendNothingAsync(nodes);

        // Release one permit at a time, the later holder first: each release admits exactly the next waiter.
        for (var i = 0; i < 4; i++)
        {
            IDistributedLockHandle release;
            lock (order)
            {
                release = held[i == 0 ? 1 : i + 1];
            }

            await release.DisposeAsync();
            var admitted = i + 1;
            await Poll.UntilAsync(() =>
            {
                lock (order)
                {
                    return order.Count == admitted;
                }
            }, $"waiter {i} admitted");
        }

        await Task.WhenAll(waiters);
        Assert.Equal([0, 1, 2, 3], order);
        var tokens = held.Skip(2).Select(h => h.FencingToken).ToList();
        Assert.Equal(tokens.Order(), tokens);
        foreach (var h in held)
        {
            await h.DisposeAsync();
        }
    }

    [Fact]
    public async Task NodeLayout_IsReadableByAnotherClient_Kazoo()
    {
        var node = NewNode(LockMode.ZooKeeperOnly);
        var sem = Key();
        var rw = Key();
        await using var p1 = await node.Semaphores.AcquireAsync(sem, 3);
        await using var p2 = await node.Semaphores.AcquireAsync(sem, 3);
        await using var r = await node.ReaderWriter.AcquireReadAsync(rw);
        var writing = NewNode(LockMode.ZooKeeperOnly).ReaderWriter.AcquireWriteAsync(rw, TimeSpan.FromSeconds(30)).AsTask();
        var zk = node.Connections.GetZooKeeper();
        await Poll.UntilAsync(async () => (await zk.GetChildrenAsync(RwDir(rw))).Children.Count == 2, "writer queued");

        var json = await Kazoo.RunAsync("read", TestEnv.ZooKeeper, SemaphoreDir(sem), RwDir(rw));
        var semChildren = json.GetProperty(SemaphoreDir(sem)).GetProperty("children").EnumerateArray().Select(c => c.GetString()!).ToList();
        var rwChildren = json.GetProperty(RwDir(rw)).GetProperty("children").EnumerateArray().Select(c => c.GetString()!).OrderBy(c => c[^10..]).ToList();

        // <32-hex owner id>-S<permits>-<10-digit sequence>; <owner>-R-<seq> / <owner>-W-<seq>, FIFO by sequence.
        Assert.Equal(2, semChildren.Count);
        Assert.All(semChildren, c => Assert.Matches(new Regex("^[0-9a-f]{32}-S3-[0-9]{10}$"), c));
        Assert.Equal(2, rwChildren.Count);
        Assert.Matches(new Regex("^[0-9a-f]{32}-R-[0-9]{10}$"), rwChildren[0]);
        Assert.Matches(new Regex("^[0-9a-f]{32}-W-[0-9]{10}$"), rwChildren[1]);

        // The fencing token is the holder's node czxid, as for the lock.
        var stats = await Task.WhenAll(semChildren.Select(c => zk.ExistsAsync(SemaphoreDir(sem) + "/" + c)));
        Assert.Equal(new[] { p1.FencingToken, p2.FencingToken }.Order(), stats.Select(s => s!.Czxid).Order());

        await r.DisposeAsync();
        await using var w = await writing;
    }

    [Fact]
    public async Task DeletingASemaphoreHoldersNode_FiresLostToken_AndFreesThePermit()
    {
        var holder = NewNode();
        var key = Key();
        var h = await holder.Semaphores.AcquireAsync(key, 1);
        var zk = holder.Connections.GetZooKeeper();
        var child = (await zk.GetChildrenAsync(SemaphoreDir(key))).Children.Single();
        var admin = NewNode(LockMode.ZooKeeperOnly).Connections.GetZooKeeper();
        await admin.WaitForConnectedAsync(TimeSpan.FromSeconds(10));
        await admin.DeleteAsync(SemaphoreDir(key) + "/" + child);
        await Poll.UntilAsync(() => h.LostToken.IsCancellationRequested, "LostToken fires");
        await h.DisposeAsync();
    }

    [Fact]
    public async Task SessionExpiry_FiresTheReadersLostToken_AndAWriterAcquires()
    {
        var reader = NewNode();
        var writer = NewNode();
        var key = Key();
        var r = await reader.ReaderWriter.AcquireReadAsync(key);
        var lost = new TaskCompletionSource();
        r.LostToken.Register(() => lost.TrySetResult());
        await Coordination.Testing.ZooKeeperSessionFaults.ExpireSessionAsync(reader.Connections.GetZooKeeper(), TestEnv.ZooKeeper);
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await using var w = await writer.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(30));
        Assert.True(w.FencingToken > r.FencingToken);
        await r.DisposeAsync();
    }

    [Fact]
    public async Task ZooKeeperUnreachable_SemaphoresAndReaderWriterLocks_FailClosed_AndGiveTheGateBack()
    {
        var deadPort = TestEnv.FreePort();
        var closed = NewNodeWithoutZooKeeper(deadPort);
        var key = Key();
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () => await closed.Semaphores.TryAcquireAsync(key, 2));
        Assert.Contains("semaphore '" + key + "'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(CoordinationHealthMode.Unavailable, closed.Status.Mode);
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await closed.ReaderWriter.TryAcquireReadAsync(key));
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await closed.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(1)));
        Assert.Equal(0, await TestEnv.RedisDb.SortedSetLengthAsync(Prefix + "{" + key + "}:sem"));
        Assert.Equal(0, await TestEnv.RedisDb.SortedSetLengthAsync(Prefix + "{" + key + "}:rw:r"));
        Assert.Equal(0, await TestEnv.RedisDb.SortedSetLengthAsync(Prefix + "{" + key + "}:rw:w"));
    }

    [Fact]
    public async Task RedisUnreachable_SemaphoresStillHoldTheirCount_OnZooKeeperAlone_AndReportDegraded()
    {
        var deadPort = TestEnv.FreePort();
        void NoRedis(HybridCoordinationOptions o) => o.Redis = $"127.0.0.1:{deadPort},connectRetry=1,connectTimeout=300";
        var a = NewNode(configure: NoRedis);
        var b = NewNode(configure: NoRedis);
        var key = Key();
        var sw = Stopwatch.StartNew();
        await using var h1 = await a.Semaphores.AcquireAsync(key, 2, TimeSpan.FromSeconds(30));
        await using var h2 = await b.Semaphores.AcquireAsync(key, 2, TimeSpan.FromSeconds(30));
        Assert.Null(await b.Semaphores.TryAcquireAsync(key, 2));
        Assert.Equal(CoordinationHealthMode.Degraded, a.Status.Mode);
        await using var r = await a.ReaderWriter.AcquireReadAsync(key, TimeSpan.FromSeconds(30));
        Assert.Null(await b.ReaderWriter.TryAcquireWriteAsync(key));
    }
}

using System.Globalization;
using Coordination.Locks;
using Coordination.Testing;
using Coordination.Tests.Elections;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Tests.Locks;

/// <summary>The inspector's views of semaphores, reader-writer locks and elections, read from the real servers.</summary>
public sealed class LockInspectorTests : LockNodeTests
{
    private static readonly string Pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(LockMode.Hybrid)]
    [InlineData(LockMode.ZooKeeperOnly)]
    [InlineData(LockMode.RedisOnly)]
    public async Task Inspector_ListsASemaphoresPermitCountAndHolders(LockMode mode)
    {
        var node = NewNode(mode);
        var key = "exports:" + TestNamespace.NewId();
        await using var a = await node.Semaphores.AcquireAsync(key, 3);
        await using var b = await NewNode(mode).Semaphores.AcquireAsync(key, 3);
        var inspector = new LockInspector(node.Connections);

        SemaphoreInfo? info = null;
        await Poll.UntilAsync(
            async () => (info = (await inspector.GetSemaphoresAsync()).SingleOrDefault(s => s.Key == key)) is { Holders.Count: 2 },
            $"{key} listed with two holders");
        Assert.Equal(3, info!.MaxCount);
        if (mode != LockMode.ZooKeeperOnly)
        {
            // The holders' process comes from the Redis holders hash (ZooKeeper nodes carry no data).
            await Poll.UntilAsync(async () => (await inspector.GetSemaphoresAsync()).Single(s => s.Key == key).Holders.All(h => h.Holder is not null), "holders named");
            info = (await inspector.GetSemaphoresAsync()).Single(s => s.Key == key);
            Assert.All(info.Holders, h => Assert.StartsWith(Pid + "@", h.Holder, StringComparison.Ordinal));
        }
        if (mode != LockMode.RedisOnly)
        {
            Assert.Equal([a.FencingToken, b.FencingToken], info.Holders.Select(h => h.FencingToken));
        }

        Assert.Empty(await inspector.GetHeldLocksAsync()); // a semaphore is not a lock
        await a.DisposeAsync();
        await b.DisposeAsync();
        await Poll.UntilAsync(async () => (await inspector.GetSemaphoresAsync()).All(s => s.Key != key), $"{key} gone once released");
    }

    [Fact]
    public async Task Inspector_CountsSemaphoreWaitersBehindTheHolders()
    {
        var node = NewNode();
        var key = Key();
        await using var a = await node.Semaphores.AcquireAsync(key, 1);
        var waiting = NewNode().Semaphores.AcquireAsync(key, 1, TimeSpan.FromSeconds(30)).AsTask();
        var inspector = new LockInspector(node.Connections);
        await Poll.UntilAsync(async () => (await inspector.GetSemaphoresAsync()).SingleOrDefault(s => s.Key == key) is { Waiters: 1, Holders.Count: 1 }, "one holder, one waiter");
        await a.DisposeAsync();
        await using var next = await waiting;
        await Poll.UntilAsync(async () => (await inspector.GetSemaphoresAsync()).Single(s => s.Key == key) is { Waiters: 0 } s && s.Holders[0].FencingToken == next.FencingToken, "the waiter holds");
    }

    [Theory]
    [InlineData(LockMode.Hybrid)]
    [InlineData(LockMode.RedisOnly)]
    public async Task Inspector_ListsReadersTogether_ThenTheWriterAlone(LockMode mode)
    {
        var node = NewNode(mode);
        var other = NewNode(mode);
        var key = "settings:" + TestNamespace.NewId();
        var inspector = new LockInspector(node.Connections);
        var r1 = await node.ReaderWriter.AcquireReadAsync(key);
        var r2 = await other.ReaderWriter.AcquireReadAsync(key);
        var writing = NewNode(mode).ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(30)).AsTask(); // another process: a local writer would queue behind its own reader in-process
        var seen = "nothing";
        await Poll.UntilAsync(
            async () =>
            {
                var l = (await inspector.GetReaderWriterLocksAsync()).SingleOrDefault(l => l.Key == key);
                seen = l is null ? "nothing" : $"{l.Readers.Count} readers, writer {l.Writer}, {l.Waiters} waiting";
                return l is { Readers.Count: 2, Writer: null } && (mode == LockMode.RedisOnly || l.Waiters == 1);
            },
            "two readers (and a waiting writer)",
            detail: () => seen);

        await r1.DisposeAsync();
        await r2.DisposeAsync();
        await using var w = await writing;
        ReaderWriterLockInfo? info = null;
        await Poll.UntilAsync(async () => (info = (await inspector.GetReaderWriterLocksAsync()).SingleOrDefault(l => l.Key == key)) is { Writer.Holder: not null, Readers.Count: 0 }, "the writer alone, with its record (written just after the grant)");
        Assert.StartsWith(Pid + "@", info!.Writer!.Holder, StringComparison.Ordinal);
        if (mode != LockMode.RedisOnly)
        {
            Assert.Equal(w.FencingToken, info.Writer.FencingToken);
        }
    }

    [Fact]
    public async Task Inspector_ListsElections_WithTheLeaderAndEveryCandidate()
    {
        await using var a = await new ElectionNode(Prefix, Root, "a", b => b.AddLeaderElection("billing", o => o.InstanceId = "cand-a")).StartAsync();
        await a.Election("billing").WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await using var b = await new ElectionNode(Prefix, Root, "b", b => b.AddLeaderElection("billing", o => o.InstanceId = "cand-b")).StartAsync();
        var inspector = new LockInspector(NewNode().Connections);

        Coordination.Elections.ElectionInfo? info = null;
        await Poll.UntilAsync(async () => (info = (await inspector.GetElectionsAsync()).SingleOrDefault(e => e.Name == "billing")) is { Candidates: 2 }, "two candidates");
        Assert.Equal("cand-a", info!.Leader?.InstanceId);
        Assert.Equal(a.Election("billing").FencingToken, info.Leader!.FencingToken);
        Assert.Equal(Environment.ProcessId, info.Leader.ProcessId);
    }
}

using System.Text;
using Coordination.Locks;
using Coordination.Testing;

namespace Coordination.Tests.Locks;

/// <summary>One suite, every mode (the way madelson/DistributedLock tests every backend).</summary>
public abstract partial class LockConformanceTests : IAsyncLifetime
{
    private readonly List<LockNode> _nodes = [];

    protected abstract LockMode Mode { get; }

    protected string Prefix { get; } = "t" + TestNamespace.NewId() + ":";

    protected string Root { get; } = "/t" + TestNamespace.NewId();

    protected virtual bool Distributed => true;

    /// <summary>The Redis the nodes use (the plain test Redis; the Redis Cluster in the cluster variants).</summary>
    protected virtual string Redis => TestEnv.Redis;

    /// <summary>A connection to <see cref="Redis"/> for checks on the records.</summary>
    protected virtual StackExchange.Redis.IDatabase RedisDb => TestEnv.RedisDb;

    /// <summary>Waiters are served in arrival order across processes (not in Redis-only mode).</summary>
    protected virtual bool Fifo => true;

    protected LockNode NewNode(Action<HybridCoordinationOptions>? configure = null, CapturingLoggerProvider? logs = null)
    {
        var n = new LockNode(Mode, Prefix, Root, o =>
        {
            o.Redis = Redis;
            configure?.Invoke(o);
        }, logs);
        _nodes.Add(n);
        return n;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes)
        {
            await n.DisposeAsync();
        }
    }

    private static string Key() => "k-" + TestNamespace.NewId();

    [Fact]
    public async Task TryAcquire_OnHeldKey_ReturnsNull_AndSucceedsAfterRelease()
    {
        var node = NewNode();
        var key = Key();
        var h = await node.Locks.TryAcquireAsync(key);
        Assert.NotNull(h);
        Assert.Equal(key, h.Key);
        Assert.Equal(Mode, h.Mode);
        Assert.False(h.LostToken.IsCancellationRequested);
        Assert.Null(await OtherFlow.Run(() => node.Locks.TryAcquireAsync(key)));
        await h.DisposeAsync();
        await h.DisposeAsync(); // harmless
        await using var again = await node.Locks.TryAcquireAsync(key);
        Assert.NotNull(again);
        Assert.True(again.FencingToken > h.FencingToken);
    }

    [Fact]
    public async Task Acquire_TimesOut_WithTimeoutException_NamingTheKey()
    {
        var node = NewNode();
        var key = Key();
        await using var h = await node.Locks.AcquireAsync(key);
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => OtherFlow.Run(() => node.Locks.AcquireAsync(key, TimeSpan.FromMilliseconds(200))));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.Null(await OtherFlow.Run(() => node.Locks.TryAcquireAsync(key, TimeSpan.FromMilliseconds(100))));
    }

    [Fact]
    public async Task Waiter_IsGranted_WhenTheHolderReleases()
    {
        var a = NewNode();
        var b = Distributed ? NewNode() : a;
        var key = Key();
        var h = await a.Locks.AcquireAsync(key);
        var waiting = OtherFlow.Run(() => b.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30)));
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await h.DisposeAsync();
        await using var next = await waiting;
        Assert.True(next.FencingToken > h.FencingToken);
    }

    [Fact]
    public async Task ManyTasks_OnSeveralNodes_NestingInsideTheirCriticalSection_NeverOverlap_AndTokensIncrease()
    {
        var nodes = Distributed ? new[] { NewNode(), NewNode(), NewNode() } : [NewNode()];
        var key = Key();
        var inside = 0;
        var maxInside = 0;
        var mismatched = 0;
        long counter = 0;
        var tokens = new List<long>();

        // Sibling tasks of a flow that holds nothing are flows of their own: they exclude each other, and each nests.
        await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            var node = nodes[i % nodes.Length];
            for (var j = 0; j < 8; j++)
            {
                await using var h = await node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(60));
                var now = Interlocked.Increment(ref inside);
                maxInside = Math.Max(maxInside, now);
                lock (tokens)
                {
                    tokens.Add(h.FencingToken);
                }

                await using (var nested = await node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(60)))
                {
                    if (nested.FencingToken != h.FencingToken)
                    {
                        Interlocked.Increment(ref mismatched);
                    }

                    var v = counter;
                    await Task.Yield();
                    counter = v + 1;
                }

                Interlocked.Decrement(ref inside);
            }
        }));
        Assert.Equal(1, maxInside);
        Assert.Equal(0, mismatched);
        Assert.Equal(96, counter);
        for (var i = 1; i < tokens.Count; i++)
        {
            Assert.True(tokens[i] > tokens[i - 1], $"token {tokens[i]} after {tokens[i - 1]}");
        }
    }

    [Fact]
    public async Task CancellationWhileWaiting_Throws_AndLeavesNothingBehind()
    {
        var a = NewNode();
        var b = Distributed ? NewNode() : a;
        var key = Key();
        var h = await a.Locks.AcquireAsync(key);
        using var cts = new CancellationTokenSource();
        var waiting = OtherFlow.Run(() => b.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30), cts.Token));
        await Task.Delay(100);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await h.DisposeAsync();
        await AssertNothingLeftAsync(key, a, b);
    }

    protected virtual Task AssertNothingLeftAsync(string key, params LockNode[] nodes) => Task.CompletedTask;

    [Theory]
    [InlineData("orders/42")]
    [InlineData("with space")]
    [InlineData("ünïcødé-🔒")]
    [InlineData("..")]
    [InlineData("%41")]
    [InlineData("}starts-with-a-closing-brace{")]
    [InlineData("{tag}x")]
    public async Task UnusualKeys_AreEncodedSafely(string key)
    {
        var node = NewNode();
        var k = key + TestNamespace.NewId();
        await using var h = await node.Locks.TryAcquireAsync(k);
        Assert.NotNull(h);
        Assert.Equal(k, h.Key);
        Assert.Null(await OtherFlow.Run(() => node.Locks.TryAcquireAsync(k)));
    }

    [Fact]
    public async Task BadKeys_AreRejected_WithClearMessages()
    {
        var node = NewNode(o => o.MaxKeyLength = 64);
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await node.Locks.TryAcquireAsync(null!));
        var empty = await Assert.ThrowsAsync<ArgumentException>(async () => await node.Locks.TryAcquireAsync(""));
        Assert.Contains("empty", empty.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(async () => await node.Locks.TryAcquireAsync("   "));
        var control = await Assert.ThrowsAsync<ArgumentException>(async () => await node.Locks.TryAcquireAsync("a\nb"));
        Assert.Contains("U+000A", control.Message, StringComparison.Ordinal);
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(async () => await node.Locks.TryAcquireAsync(new string('x', 65)));
        Assert.Contains("64", tooLong.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await node.Locks.TryAcquireAsync("k", TimeSpan.FromSeconds(-2)));
    }

    [Fact]
    public async Task OneProcess_ManyCallers_QueueLocally_AndAllGetTheLock()
    {
        var node = NewNode();
        var key = Key();
        var order = new List<int>();
        var first = await node.Locks.AcquireAsync(key);
        var waiters = Enumerable.Range(0, 10).Select(i => OtherFlow.Run(async () =>
        {
            await using var h = await node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30));
            lock (order)
            {
                order.Add(i);
            }
        })).ToList();
        await first.DisposeAsync();
        await Task.WhenAll(waiters);
        Assert.Equal(10, order.Count);
    }
}

public sealed class InProcessLockTests : LockConformanceTests
{
    protected override LockMode Mode => LockMode.InProcess;

    protected override bool Distributed => false;
}

public class RedisOnlyLockTests : LockConformanceTests
{
    protected override LockMode Mode => LockMode.RedisOnly;

    protected override bool Fifo => false;

    protected override async Task AssertNothingLeftAsync(string key, params LockNode[] nodes)
    {
        Assert.False(await RedisDb.KeyExistsAsync(RedisLockRecord.RecordKey(Prefix, key)));
    }
}

public sealed class ZooKeeperOnlyLockTests : LockConformanceTests
{
    protected override LockMode Mode => LockMode.ZooKeeperOnly;

    protected override async Task AssertNothingLeftAsync(string key, params LockNode[] nodes)
    {
        var zk = nodes[0].Connections.GetZooKeeper();
        var dir = Root + "/locks/" + Coordination.Keys.LockKey.ToNodeName(key);
        await Poll.UntilAsync(async () => (await zk.ExistsAsync(dir)) is null || (await zk.GetChildrenAsync(dir)).Children.Count == 0, "no lock nodes left");
    }
}

public class HybridLockTests : LockConformanceTests
{
    protected override LockMode Mode => LockMode.Hybrid;

    protected override async Task AssertNothingLeftAsync(string key, params LockNode[] nodes)
    {
        var zk = nodes[0].Connections.GetZooKeeper();
        var dir = Root + "/locks/" + Coordination.Keys.LockKey.ToNodeName(key);
        await Poll.UntilAsync(async () => (await zk.ExistsAsync(dir)) is null || (await zk.GetChildrenAsync(dir)).Children.Count == 0, "no lock nodes left");
        await Poll.UntilAsync(async () => !await RedisDb.KeyExistsAsync(RedisLockRecord.RecordKey(Prefix, key)), "no Redis record left");
    }
}

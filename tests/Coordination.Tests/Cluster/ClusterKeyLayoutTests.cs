using Coordination.Locks;
using Coordination.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.Tests.Cluster;

/// <summary>
/// The Redis key layout <c>&lt;prefix&gt;{&lt;key&gt;}:&lt;suffix&gt;</c> on the Redis Cluster, the inspector reading
/// records from every master, the fencing counter carried over from the old layout, and Redis errors reaching callers
/// as <see cref="LockUnavailableException"/>.
/// </summary>
public sealed class ClusterKeyLayoutTests : IAsyncLifetime
{
    private readonly List<LockNode> _nodes = [];
    private readonly string _prefix = "t" + TestNamespace.NewId() + ":";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes)
        {
            await n.DisposeAsync();
        }
    }

    private LockNode Node(LockMode mode, string redis, Action<HybridCoordinationOptions>? more = null)
    {
        var n = new LockNode(mode, _prefix, "/t" + TestNamespace.NewId(), o =>
        {
            o.Redis = redis;
            more?.Invoke(o);
        });
        _nodes.Add(n);
        return n;
    }

    [Theory]
    [InlineData("orders:42")]
    [InlineData("}x")]
    [InlineData("{}x")]
    [InlineData("{x")]
    [InlineData("a}b{c}")]
    [InlineData("ünï")]
    public void EveryKeyOfOneLock_HashesToOneSlot_AndTheNameGivesBackTheKey(string key)
    {
        var names = new[] { RedisLockRecord.RecordKey(_prefix, key), RedisLockRecord.FenceKey(_prefix, key), (RedisKey)RedisLockRecord.Name(_prefix, key, "permits") };

        Assert.Single(names.Select(n => TestEnv.Cluster.HashSlot(n)).Distinct());
        Assert.Equal(key, RedisLockRecord.KeyOf(names[0]!, _prefix, RedisLockRecord.RecordSuffix));
        Assert.Null(RedisLockRecord.KeyOf(names[1]!, _prefix, RedisLockRecord.RecordSuffix));
    }

    [Fact]
    public void TwoKeysThatDifferOnlyInALeadingBrace_GetDifferentNames()
    {
        Assert.NotEqual(RedisLockRecord.RecordKey(_prefix, "}x"), RedisLockRecord.RecordKey(_prefix, "{}x"));
        Assert.NotEqual(RedisLockRecord.RecordKey(_prefix, "{x"), RedisLockRecord.RecordKey(_prefix, "x"));
    }

    [Fact]
    public async Task Inspector_OnTheCluster_ListsHeldLocksFromEveryMaster()
    {
        var node = Node(LockMode.RedisOnly, TestEnv.RedisCluster);
        var keys = Enumerable.Range(0, 12).Select(i => $"inspect-{i}").ToList();
        var handles = new List<IDistributedLockHandle>();
        foreach (var k in keys)
        {
            handles.Add(await node.Locks.AcquireAsync(k));
        }

        try
        {
            Assert.True(keys.Select(k => TestEnv.Cluster.HashSlot(RedisLockRecord.RecordKey(_prefix, k))).Distinct().Count() > 1);
            var inspector = node.Services.GetRequiredService<ILockInspector>();
            var held = await inspector.GetHeldLocksAsync();
            Assert.Equal(keys.Order(StringComparer.Ordinal), held.Select(h => h.Key).Order(StringComparer.Ordinal));
            Assert.All(held, h => Assert.NotNull(h.Holder));
        }
        finally
        {
            foreach (var h in handles)
            {
                await h.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task RedisOnly_AfterTheLayoutChange_ContinuesTheOldFencingCounter()
    {
        var node = Node(LockMode.RedisOnly, TestEnv.Redis);
        const string Key = "upgraded";
        await TestEnv.RedisDb.StringSetAsync(_prefix + "fence:" + Key, 41);

        await using (var first = await node.Locks.AcquireAsync(Key))
        {
            Assert.Equal(42, first.FencingToken);
        }

        await TestEnv.RedisDb.StringSetAsync(_prefix + "fence:" + Key, 1000); // read once per key, not again
        await using var second = await node.Locks.AcquireAsync(Key);
        Assert.Equal(43, second.FencingToken);
    }

    [Theory]
    [InlineData(LockMode.RedisOnly)]
    [InlineData(LockMode.Hybrid)]
    public async Task ARedisErrorTheLibraryCannotHandle_ReachesTheCaller_AsLockUnavailableException(LockMode mode)
    {
        // The fencing counter's name holds a hash: INCR on it fails with WRONGTYPE. RedisOnly cannot decide; Hybrid's
        // unsafe fallback (ZooKeeper unreachable) neither. Both must say so in the library's own exception.
        var node = Node(mode, TestEnv.RedisCluster, o =>
        {
            o.UnsafeAllowRedisOnlyFallback = true;
            o.ZooKeeper = "127.0.0.1:" + TestEnv.FreePort();
            o.ConnectTimeout = TimeSpan.FromSeconds(1);
            o.OperationTimeout = TimeSpan.FromSeconds(1);
        });
        const string Key = "wrong-type";
        await TestEnv.ClusterDb.HashSetAsync(RedisLockRecord.FenceKey(_prefix, Key), "not", "a counter");

        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () => await node.Locks.AcquireAsync(Key, TimeSpan.FromSeconds(5)));

        Assert.Contains(Key, ex.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGTYPE", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<RedisException>(ex.InnerException);
    }
}

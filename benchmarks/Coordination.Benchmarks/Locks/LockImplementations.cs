using System.Globalization;
using System.Runtime.CompilerServices;
using Coordination.Benchmarks.ZooKeeper;
using Coordination.Locks;
using Medallion.Threading.Redis;
using Microsoft.Extensions.DependencyInjection;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>One lock implementation under test: acquire within <c>wait</c> (zero = try once), dispose to release.</summary>
internal interface ILockImpl : IAsyncDisposable
{
    string Name { get; }

    ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait);
}

/// <summary>
/// The implementations by name. Ours: <c>hybrid</c>, <c>zookeeper-only</c>, <c>redis-only</c>, each optionally followed by
/// <c>semaphore(N)</c>, <c>read</c> or <c>write</c>. Peers: <c>DistributedLock.Redis</c> (same suffixes) and
/// <c>RedLock.net</c>. Floors: <c>floor</c> (the protocol's physical minimum by hand: create + getChildren in one write,
/// delete, and the record's Redis commands fire-and-forget) and <c>floor, one at a time</c> (every step awaited in turn:
/// the previous protocol by hand). Every wrapper uses the pooling async builder, so the harness adds no allocation of its
/// own to any row.
/// </summary>
internal static class LockImplementations
{
    /// <summary>RedLock.net's retry interval while waiting (its README example uses 1 s; a tight 10 ms favours it).</summary>
    public static TimeSpan RedLockRetry { get; set; } = TimeSpan.FromMilliseconds(10);

    public static async Task<ILockImpl> CreateAsync(string name, string redis, string zk, string prefix, Action<HybridCoordinationOptions>? configure = null) =>
        name.Split(' ')[0].TrimEnd(',') switch
        {
            "floor" when name.Contains("one at a time", StringComparison.Ordinal) => await SequentialFloor.CreateAsync(redis, zk, prefix),
            "floor" => await PipelinedFloor.CreateAsync(name, redis, zk, prefix),
            "hybrid" => Ours.Create(name, LockMode.Hybrid, redis, zk, prefix, configure),
            "zookeeper-only" => Ours.Create(name, LockMode.ZooKeeperOnly, redis, zk, prefix, configure),
            "redis-only" => Ours.Create(name, LockMode.RedisOnly, redis, zk, prefix, configure),
            "DistributedLock.Redis" => await MedallionRedis.CreateAsync(name, redis, prefix),
            "RedLock.net" => await RedLock.CreateAsync(redis, prefix),
            _ => throw new ArgumentException($"Unknown lock implementation '{name}'.", nameof(name)),
        };

    /// <summary>The permits of a "… semaphore(N)" implementation name, else null.</summary>
    public static int? PermitsOf(string name) =>
        name.IndexOf("semaphore(", StringComparison.Ordinal) is var at and >= 0
            ? int.Parse(name.AsSpan(at + 10, name.IndexOf(')', at) - at - 10), CultureInfo.InvariantCulture)
            : null;

    /// <summary>A fresh key and ZooKeeper root prefix per run, so runs never see each other's nodes or records.</summary>
    public static string NewPrefix() => "bench" + Guid.NewGuid().ToString("N")[..6] + ":";

    internal sealed class Ours(string name, ServiceProvider services, Func<string, TimeSpan, ValueTask<IDistributedLockHandle?>> acquire) : ILockImpl
    {
        public string Name => name;

        public IServiceProvider Services => services;

        public static Ours Create(string name, LockMode mode, string redis, string zk, string prefix, Action<HybridCoordinationOptions>? configure)
        {
            var collection = new ServiceCollection();
            collection.AddHybridCoordination(o =>
            {
                o.Mode = mode;
                o.Redis = redis;
                o.ZooKeeper = zk;
                o.RedisPrefix = prefix;
                o.ZooKeeperRoot = "/" + prefix.TrimEnd(':');
                configure?.Invoke(o);
            });
            var sp = collection.BuildServiceProvider();
            var locks = sp.GetRequiredService<IDistributedLockProvider>();
            var semaphores = sp.GetRequiredService<IDistributedSemaphoreProvider>();
            var rw = sp.GetRequiredService<IDistributedReaderWriterLockProvider>();
            Func<string, TimeSpan, ValueTask<IDistributedLockHandle?>> acquire =
                PermitsOf(name) is { } permits ? (k, w) => semaphores.TryAcquireAsync(k, permits, w)
                : name.EndsWith(" read", StringComparison.Ordinal) ? (k, w) => rw.TryAcquireReadAsync(k, w)
                : name.EndsWith(" write", StringComparison.Ordinal) ? (k, w) => rw.TryAcquireWriteAsync(k, w)
                : (k, w) => locks.TryAcquireAsync(k, w);
            return new Ours(name, sp, acquire);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait) => await acquire(key, wait);

        public ValueTask DisposeAsync() => services.DisposeAsync();
    }

    /// <summary>
    /// The physical minimum of a ZooKeeper-decided lock with a Redis record, by hand: [try once: the gate's SET NX],
    /// create (ephemeral-sequential) + getChildren in one write, the record's SET fire-and-forget; release: delete, then
    /// the compare-and-delete script fire-and-forget. One ZooKeeper write to enter, one to leave.
    /// </summary>
    internal sealed class PipelinedFloor(string name, ConnectionMultiplexer mux, RawPipelinedZk zk, string dir, string prefix) : ILockImpl
    {
        private const string ReleaseScript = "local v = redis.call('GET', KEYS[1]) if v and string.sub(v, 1, 32) == ARGV[1] then redis.call('DEL', KEYS[1]) end redis.call('PUBLISH', ARGV[2], ARGV[3]) return 1";

        public string Name => name;

        public static async Task<PipelinedFloor> CreateAsync(string name, string redis, string zkServer, string prefix)
        {
            var mux = await ConnectionMultiplexer.ConnectAsync(redis);
            var zk = await RawPipelinedZk.ConnectAsync(zkServer.Split('/')[0].Split(',')[0]);
            var dir = "/" + prefix.TrimEnd(':') + "-floor";
            await zk.EnsureAsync(dir);
            return new PipelinedFloor(name, mux, zk, dir, prefix);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait)
        {
            var db = mux.GetDatabase();
            var owner = Guid.NewGuid().ToString("N");
            RedisKey record = prefix + "{" + key + "}:floor";
            if (wait == TimeSpan.Zero && !await db.StringSetAsync(record, owner + ":{}", TimeSpan.FromSeconds(30), When.NotExists))
            {
                return null;
            }

            var keyDir = dir + "/" + key;
            await zk.EnsureKnownAsync(keyDir);
            var node = await zk.EnterAsync(keyDir + "/" + owner + "-", keyDir);
            _ = db.StringSetAsync(record, owner + ":{\"token\":1}", TimeSpan.FromSeconds(30), When.Always, CommandFlags.FireAndForget);
            return new Release(async () =>
            {
                await zk.DeleteAsync(node);
                _ = db.ScriptEvaluateAsync(ReleaseScript, [record], [owner, prefix + "released", key], CommandFlags.FireAndForget);
            });
        }

        public async ValueTask DisposeAsync()
        {
            await zk.DisposeAsync();
            mux.Dispose();
        }
    }

    /// <summary>The previous protocol by hand, every step awaited in turn: SET NX, create, getChildren, delete, compare-and-delete.</summary>
    internal sealed class SequentialFloor(ConnectionMultiplexer mux, RawZk zk, string prefix) : ILockImpl
    {
        private static readonly LuaScript CompareDelete = LuaScript.Prepare("if redis.call('GET', @k) == @v then return redis.call('DEL', @k) end return 0");

        public string Name => "floor, one at a time";

        public static async Task<SequentialFloor> CreateAsync(string redis, string zkServer, string prefix)
        {
            var mux = await ConnectionMultiplexer.ConnectAsync(redis);
            var zk = await RawZk.ConnectAsync(zkServer.Split('/')[0].Split(',')[0]);
            await zk.CreatePersistentIfMissingAsync("/" + prefix.TrimEnd(':') + "-seq");
            return new SequentialFloor(mux, zk, prefix);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait)
        {
            var db = mux.GetDatabase();
            var owner = Guid.NewGuid().ToString("N");
            RedisKey k = prefix + "seq:" + key;
            if (!await db.StringSetAsync(k, owner, TimeSpan.FromSeconds(30), When.NotExists))
            {
                return null;
            }

            var dir = "/" + prefix.TrimEnd(':') + "-seq";
            var node = await zk.CreateEphemeralSequentialAsync(dir + "/n-");
            _ = await zk.GetChildrenCountAsync(dir);
            return new Release(async () =>
            {
                await zk.DeleteAsync(node);
                await CompareDelete.EvaluateAsync(db, new { k, v = owner });
            });
        }

        public ValueTask DisposeAsync()
        {
            zk.Dispose();
            mux.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class MedallionRedis(string name, ConnectionMultiplexer mux, string prefix) : ILockImpl
    {
        public string Name => name;

        public static async Task<MedallionRedis> CreateAsync(string name, string redis, string prefix) => new(name, await ConnectionMultiplexer.ConnectAsync(redis), prefix);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait)
        {
            var k = prefix + "medallion:" + key;
            return PermitsOf(name) is { } permits ? await new RedisDistributedSemaphore(k, permits, mux.GetDatabase()).TryAcquireAsync(wait)
                : name.EndsWith(" read", StringComparison.Ordinal) ? await new RedisDistributedReaderWriterLock(k, mux.GetDatabase()).TryAcquireReadLockAsync(wait)
                : name.EndsWith(" write", StringComparison.Ordinal) ? await new RedisDistributedReaderWriterLock(k, mux.GetDatabase()).TryAcquireWriteLockAsync(wait)
                : await new RedisDistributedLock(k, mux.GetDatabase()).TryAcquireAsync(wait);
        }

        public ValueTask DisposeAsync()
        {
            mux.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class RedLock(ConnectionMultiplexer mux, RedLockFactory factory, string prefix) : ILockImpl
    {
        public string Name => "RedLock.net";

        public static async Task<RedLock> CreateAsync(string redis, string prefix)
        {
            var mux = await ConnectionMultiplexer.ConnectAsync(redis);
            // One attempt for a try-once: by default CreateLockAsync without a wait retries 3 times 400 ms apart.
            return new RedLock(mux, RedLockFactory.Create([new RedLockMultiplexer(mux)], new RedLockRetryConfiguration(retryCount: 1, retryDelayMs: 10)), prefix);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait)
        {
            var l = wait == TimeSpan.Zero
                ? await factory.CreateLockAsync(prefix + "redlock:" + key, TimeSpan.FromSeconds(30))
                : await factory.CreateLockAsync(prefix + "redlock:" + key, TimeSpan.FromSeconds(30), wait, RedLockRetry);
            if (!l.IsAcquired)
            {
                await l.DisposeAsync();
                return null;
            }

            return l; // its DisposeAsync releases (Dispose would block a thread on the unlock)
        }

        public ValueTask DisposeAsync()
        {
            factory.Dispose();
            mux.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class Release(Func<ValueTask> release) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => release();
    }
}

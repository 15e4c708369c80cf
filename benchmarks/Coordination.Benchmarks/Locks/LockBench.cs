using System.Diagnostics;
using System.Globalization;
using System.Text;
using Coordination.Benchmarks.ZooKeeper;
using Coordination.Locks;
using Medallion.Threading.Redis;
using Microsoft.Extensions.DependencyInjection;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// Lock benchmarks, every implementation in one process against the same servers:
/// <list type="bullet">
/// <item>uncontended acquire+release, interleaved in rounds so machine noise hits everyone alike;</item>
/// <item>contended hand-off: two OS processes alternating on one key; hand-off = time from the holder's release
/// to the other process's grant (Stopwatch timestamps are CLOCK_MONOTONIC, comparable across processes).</item>
/// </list>
/// The floor is the protocol's own cost done by hand: Redis SET NX PX + Lua compare-and-delete, and ZooKeeper
/// create (ephemeral-sequential) + getChildren + delete with the raw-socket client.
/// </summary>
internal static class LockBench
{
    private interface ILockImpl : IAsyncDisposable
    {
        string Name { get; }

        ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait);
    }

    private static readonly string[] UncontendedOrder = ["floor", "hybrid", "hybrid, new key each time", "zookeeper-only", "redis-only", "DistributedLock.Redis", "RedLock.net"];

    // Semaphores (3 permits) and reader-writer locks next to the lock they are built on, and DistributedLock.Redis's.
    private static readonly string[] PrimitivesOrder =
    [
        "floor", "hybrid", "hybrid semaphore(3)", "hybrid read", "hybrid write",
        "zookeeper-only", "zookeeper-only semaphore(3)", "zookeeper-only read", "zookeeper-only write",
        "redis-only", "redis-only semaphore(3)", "redis-only read", "redis-only write",
        "DistributedLock.Redis", "DistributedLock.Redis semaphore(3)", "DistributedLock.Redis read", "DistributedLock.Redis write",
    ];

    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        var redis = args.Get("redis", Environment.GetEnvironmentVariable("COORD_REDIS") ?? "127.0.0.1:6379");
        var zk = args.Get("zk", Environment.GetEnvironmentVariable("COORD_ZK") ?? "127.0.0.1:2181");
        var n = args.GetInt("n", 2000);
        var handoffs = args.GetInt("handoffs", 500);
        var only = args.Get("only", "");
        Console.WriteLine($"# Locks: {n} uncontended acquire+release per implementation, {handoffs} two-process hand-offs; redis {redis}, zookeeper {zk}; {Environment.ProcessorCount} cores");
        if (only is "" or "uncontended")
        {
            await UncontendedAsync(redis, zk, n, UncontendedOrder);
        }

        if (only is "primitives")
        {
            await UncontendedAsync(redis, zk, n, PrimitivesOrder);
            Console.WriteLine();
            Console.WriteLine("| contended hand-off (2 processes) | p50 ms | p99 ms | grants that were hand-offs |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var impl in new[] { "hybrid", "hybrid semaphore(1)", "hybrid write", "DistributedLock.Redis semaphore(1)", "DistributedLock.Redis write" })
            {
                await HandoffAsync(impl, redis, zk, handoffs);
            }
        }

        if (only is "" or "handoff")
        {
            Console.WriteLine();
            Console.WriteLine("| contended hand-off (2 processes) | p50 ms | p99 ms | grants that were hand-offs |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var impl in new[] { "hybrid", "zookeeper-only", "redis-only", "DistributedLock.Redis", "RedLock.net" })
            {
                await HandoffAsync(impl, redis, zk, handoffs);
            }
        }

        return 0;
    }

    private static async Task UncontendedAsync(string redis, string zk, int n, string[] order)
    {
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6] + ":";
        var impls = new List<ILockImpl>();
        foreach (var name in order)
        {
            impls.Add(await CreateAsync(name, redis, zk, prefix));
        }

        var samples = impls.ToDictionary(i => i.Name, _ => new List<double>(n));
        var allocated = impls.ToDictionary(i => i.Name, _ => 0L);
        var elapsed = impls.ToDictionary(i => i.Name, _ => 0.0);
        var key = "uncontended";
        foreach (var impl in impls)
        {
            for (var i = 0; i < 200; i++)
            {
                await using var h = await impl.AcquireAsync(key, TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException($"{impl.Name} did not acquire");
            }
        }

        const int Round = 100;
        for (var done = 0; done < n; done += Round)
        {
            foreach (var impl in impls)
            {
                var before = GC.GetTotalAllocatedBytes(precise: false);
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < Round; i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    var k = impl.Name.Contains("new key", StringComparison.Ordinal) ? key + Guid.NewGuid().ToString("N") : key;
                    var h = await impl.AcquireAsync(k, TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException($"{impl.Name} did not acquire");
                    await h.DisposeAsync();
                    samples[impl.Name].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                }

                elapsed[impl.Name] += Stopwatch.GetElapsedTime(start).TotalSeconds;
                allocated[impl.Name] += GC.GetTotalAllocatedBytes(precise: false) - before;
            }
        }

        var floor = Percentile(samples["floor"], 50);
        Console.WriteLine();
        Console.WriteLine("| uncontended acquire+release | p50 ms | p99 ms | x floor (p50) | ops/s | allocated B/op |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var impl in impls)
        {
            var s = samples[impl.Name];
            var p50 = Percentile(s, 50);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {impl.Name} | {p50:0.000} | {Percentile(s, 99):0.000} | {p50 / floor:0.00} | {s.Count / elapsed[impl.Name]:0} | {allocated[impl.Name] / s.Count:0} |"));
        }

        foreach (var impl in impls)
        {
            await impl.DisposeAsync();
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    // ---------------------------------------------------------------- hand-off across two processes

    private static async Task HandoffAsync(string impl, string redis, string zk, int handoffs)
    {
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..6] + ":";
        var dll = typeof(LockBench).Assembly.Location;
        var children = Enumerable.Range(0, 2).Select(side =>
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in new[] { dll, "locks-handoff-child", "--impl", impl, "--redis", redis, "--zk", zk, "--prefix", prefix, "--n", handoffs.ToString(CultureInfo.InvariantCulture), "--side", side == 0 ? "a" : "b" })
            {
                psi.ArgumentList.Add(a);
            }

            return Process.Start(psi)!;
        }).ToList();

        // Both children connect and warm up, then start together.
        foreach (var c in children)
        {
            var ready = await c.StandardOutput.ReadLineAsync();
            if (ready != "READY")
            {
                throw new InvalidOperationException($"{impl} child failed: {ready}");
            }
        }

        foreach (var c in children)
        {
            await c.StandardInput.WriteLineAsync("GO");
            await c.StandardInput.FlushAsync();
        }

        var events = new List<(long Acquired, long Released, int Child)>();
        var readers = children.Select(async (c, index) =>
        {
            var list = new List<(long, long, int)>();
            while (await c.StandardOutput.ReadLineAsync() is { } line && line != "DONE")
            {
                var parts = line.Split(' ');
                list.Add((long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture), index));
            }

            await c.WaitForExitAsync();
            return list;
        }).ToList();
        foreach (var r in readers)
        {
            events.AddRange(await r);
        }

        events.Sort((a, b) => a.Acquired.CompareTo(b.Acquired));
        var handoff = new List<double>();
        for (var i = 1; i < events.Count; i++)
        {
            if (events[i].Child != events[i - 1].Child)
            {
                handoff.Add((events[i].Acquired - events[i - 1].Released) * 1000.0 / Stopwatch.Frequency);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {impl} | {Percentile(handoff, 50):0.000} | {Percentile(handoff, 99):0.000} | {handoff.Count} of {events.Count - 1} |"));
    }

    public static async Task<int> HandoffChildAsync(string[] argv)
    {
        var args = new Args(argv);
        var impl = await CreateAsync(args.Get("impl", "hybrid"), args.Get("redis", ""), args.Get("zk", ""), args.Get("prefix", "bench:"));
        var n = args.GetInt("n", 500);
        for (var i = 0; i < 20; i++)
        {
            await using var h = await impl.AcquireAsync("warmup-" + Environment.ProcessId, TimeSpan.FromSeconds(10));
        }

        // Contention by construction: a holder releases only once the other process has asked for the lock and had
        // 2 ms to park inside the library's own wait (ZooKeeper watch, pub/sub bell or polling), so each hand-off
        // measures that wait's wake-up, not the benchmark's coordination.
        using var turns = await ConnectionMultiplexer.ConnectAsync(args.Get("redis", ""));
        var db = turns.GetDatabase();
        var prefix = args.Get("prefix", "bench:");
        var me = args.Get("side", "a");
        var other = me == "a" ? "b" : "a";
        Console.WriteLine("READY");
        _ = Console.ReadLine();
        var lines = new StringBuilder();
        for (var i = 0; i < n; i++)
        {
            await db.StringIncrementAsync(prefix + "want:" + me);
            var h = await impl.AcquireAsync("handoff", TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("not acquired");
            var acquired = Stopwatch.GetTimestamp();
            await db.StringIncrementAsync(prefix + "grants:" + me);
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency; // the other may have finished its loop
            while (Stopwatch.GetTimestamp() < deadline
                && (long)await db.StringGetAsync(prefix + "want:" + other) <= (long)await db.StringGetAsync(prefix + "grants:" + other))
            {
                await Task.Delay(1);
            }

            await Task.Delay(2);
            var otherGrants = (long)await db.StringGetAsync(prefix + "grants:" + other);
            var released = Stopwatch.GetTimestamp();
            await h.DisposeAsync();
            lines.Append(acquired).Append(' ').Append(released).Append('\n');

            // Alternate: let the waiter take its turn before asking again (otherwise unfair locks re-grant to us).
            deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
            while (Stopwatch.GetTimestamp() < deadline && (long)await db.StringGetAsync(prefix + "grants:" + other) <= otherGrants)
            {
                await Task.Delay(1);
            }
        }

        Console.Write(lines);
        Console.WriteLine("DONE");
        await impl.DisposeAsync();
        return 0;
    }

    // ---------------------------------------------------------------- implementations

    private static async Task<ILockImpl> CreateAsync(string name, string redis, string zk, string prefix) => name.Split(' ')[0].TrimEnd(',') switch
    {
        "floor" => await Floor.CreateAsync(redis, zk, prefix),
        "hybrid" => Ours.Create(name, LockMode.Hybrid, redis, zk, prefix),
        "zookeeper-only" => Ours.Create(name, LockMode.ZooKeeperOnly, redis, zk, prefix),
        "redis-only" => Ours.Create(name, LockMode.RedisOnly, redis, zk, prefix),
        "DistributedLock.Redis" => await MedallionRedis.CreateAsync(name, redis, prefix),
        "RedLock.net" => await RedLock.CreateAsync(redis, prefix),
        _ => throw new ArgumentException($"Unknown lock implementation '{name}'.", nameof(name)),
    };

    /// <summary>The permits of a "… semaphore(N)" implementation name, else null.</summary>
    private static int? PermitsOf(string name) =>
        name.IndexOf("semaphore(", StringComparison.Ordinal) is var at and >= 0
            ? int.Parse(name.AsSpan(at + 10, name.IndexOf(')', at) - at - 10), CultureInfo.InvariantCulture)
            : null;

    private sealed class Ours(string name, ServiceProvider services, Func<string, TimeSpan, ValueTask<IDistributedLockHandle?>> acquire) : ILockImpl
    {
        public string Name => name;

        public static Ours Create(string name, LockMode mode, string redis, string zk, string prefix)
        {
            var services = new ServiceCollection();
            services.AddHybridCoordination(o =>
            {
                o.Mode = mode;
                o.Redis = redis;
                o.ZooKeeper = zk;
                o.RedisPrefix = prefix;
                o.ZooKeeperRoot = "/" + prefix.TrimEnd(':');
            });
            var sp = services.BuildServiceProvider();
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

        public async ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait) => await acquire(key, wait);

        public ValueTask DisposeAsync() => services.DisposeAsync();
    }

    private sealed class Floor(ConnectionMultiplexer mux, RawZk zk, string prefix) : ILockImpl
    {
        private static readonly LuaScript CompareDelete = LuaScript.Prepare("if redis.call('GET', @k) == @v then return redis.call('DEL', @k) end return 0");

        public string Name => "floor";

        public static async Task<Floor> CreateAsync(string redis, string zkServer, string prefix)
        {
            var mux = await ConnectionMultiplexer.ConnectAsync(redis);
            var zk = await RawZk.ConnectAsync(zkServer.Split('/')[0].Split(',')[0]);
            var root = "/" + prefix.TrimEnd(':') + "-floor";
            await zk.CreatePersistentIfMissingAsync(root);
            return new Floor(mux, zk, prefix);
        }

        public async ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait)
        {
            var db = mux.GetDatabase();
            var owner = Guid.NewGuid().ToString("N");
            RedisKey k = prefix + "floor:" + key;
            if (!await db.StringSetAsync(k, owner, TimeSpan.FromSeconds(30), When.NotExists))
            {
                return null;
            }

            var dir = "/" + prefix.TrimEnd(':') + "-floor";
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

    private sealed class MedallionRedis(string name, ConnectionMultiplexer mux, string prefix) : ILockImpl
    {
        public string Name => name;

        public static async Task<MedallionRedis> CreateAsync(string name, string redis, string prefix) => new(name, await ConnectionMultiplexer.ConnectAsync(redis), prefix);

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

    private sealed class RedLock(ConnectionMultiplexer mux, RedLockFactory factory, string prefix) : ILockImpl
    {
        public string Name => "RedLock.net";

        public static async Task<RedLock> CreateAsync(string redis, string prefix)
        {
            var mux = await ConnectionMultiplexer.ConnectAsync(redis);
            return new RedLock(mux, RedLockFactory.Create([new RedLockMultiplexer(mux)]), prefix);
        }

        public async ValueTask<IAsyncDisposable?> AcquireAsync(string key, TimeSpan wait)
        {
            var l = await factory.CreateLockAsync(prefix + "redlock:" + key, TimeSpan.FromSeconds(30), wait, TimeSpan.FromMilliseconds(1));
            if (!l.IsAcquired)
            {
                l.Dispose();
                return null;
            }

            return new Release(() =>
            {
                l.Dispose();
                return ValueTask.CompletedTask;
            });
        }

        public ValueTask DisposeAsync()
        {
            factory.Dispose();
            mux.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Release(Func<ValueTask> release) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => release();
    }
}

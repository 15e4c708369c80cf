using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using StackExchange.Redis;
using static Coordination.Benchmarks.Locks.BenchEnvironment;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// <c>locks</c>: every lock implementation in one process against the same servers, peers side by side. Suites
/// (<c>--only</c>, comma-separated; default all but <c>alloc</c>):
/// <list type="bullet">
/// <item><c>uncontended</c>: acquire+release on one key, interleaved in rounds so machine noise hits everyone alike;
/// then try-once on a free and on a held key (with the ZooKeeper writes each attempt made), and the protocol's
/// trade-offs measured by hand (gate before or beside the create).</item>
/// <item><c>contended</c>: P OS processes × T tasks on one key, grants per second (<see cref="ContendedBench"/>).</item>
/// <item><c>many-keys</c>: C callers in one process, each on its own key, against the pipelined floor (<see cref="ManyKeysBench"/>).</item>
/// <item><c>scale</c>: one process holding 1 to 10,000 locks (<see cref="ScaleBench"/>).</item>
/// <item><c>handoff</c>: two OS processes alternating on one key; time from release to the other's grant.</item>
/// <item><c>primitives</c>: semaphores and reader-writer locks next to the lock and DistributedLock.Redis's.</item>
/// <item><c>alloc</c>: what one implementation allocates per acquire+release, by type (<c>--impl</c>).</item>
/// </list>
/// <c>--out file.json</c> keeps the results for <c>Coordination.Benchmarks.Plots</c> (report and plots).
/// </summary>
internal static class LockBench
{
    public static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly string[] UncontendedOrder =
        ["floor", "floor, one at a time", "hybrid", "hybrid, new key each time", "zookeeper-only", "redis-only", "DistributedLock.Redis", "RedLock.net"];

    private static readonly string[] TryOnceOrder = ["hybrid", "zookeeper-only", "redis-only", "DistributedLock.Redis", "RedLock.net"];

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
        var handoffs = args.GetInt("handoffs", 60);
        var seconds = args.GetInt("seconds", 4);
        var only = args.Get("only", "uncontended,contended,many-keys,scale,handoff,primitives").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var output = args.Get("out", "");
        LockImplementations.RedLockRetry = TimeSpan.FromMilliseconds(args.GetInt("redlock-retry-ms", 10));

        // --merge: add this run's tables to the results already in --out (a table of the same suite is replaced).
        var results = args.Get("merge", "") == "true" && output != "" && File.Exists(output) ? await BenchResults.ReadAsync(output) : new BenchResults();
        var merged = results.Tables.Count > 0;
        foreach (var (k, v) in await DescribeMachineAsync(redis, zk))
        {
            if (!merged || k is "date" or "load average at start")
            {
                results.Machine[merged ? $"{k} (run of {string.Join(", ", only)})" : k] = v;
            }
        }

        Console.WriteLine($"# Locks: redis {redis}, zookeeper {zk}; {string.Join(", ", results.Machine.Select(kv => kv.Key + " " + kv.Value))}");

        async Task SuiteAsync(string name, Func<Task> run)
        {
            if (!only.Contains(name))
            {
                return;
            }

            var before = LoadAverage();
            var sw = Stopwatch.StartNew();
            await run();
            results.Machine[$"load average, {name}"] = $"{before} → {LoadAverage()} ({sw.Elapsed.TotalSeconds:0} s)";
            Console.WriteLine($"# {name}: load average {results.Machine[$"load average, {name}"]}");
            if (output != "")
            {
                await results.WriteAsync(output);
            }
        }

        await SuiteAsync("uncontended", async () =>
        {
            var order = args.Get("impls", "") is { Length: > 0 } chosen ? chosen.Split(';') : UncontendedOrder;
            await UncontendedAsync(results, "uncontended", "Uncontended acquire+release", redis, zk, n, order, keepSamples: true);
            if (args.Get("try-impls", "") is { Length: > 0 } tryImpls)
            {
                await TryOnceAsync(results, redis, zk, Math.Max(200, n / 2), tryImpls.Split(';'));
            }
            else if (order == UncontendedOrder)
            {
                await TryOnceAsync(results, redis, zk, Math.Max(200, n / 2), TryOnceOrder);
                await TradeOffs.RunAsync(results, redis, zk, Math.Max(200, n / 2));
            }
        });
        await SuiteAsync("contended", () => ContendedBench.RunAsync(results, redis, zk, seconds, args.Get("processes", "1,2,4"), args.GetInt("tasks", 4)));
        await SuiteAsync("many-keys", () => ManyKeysBench.RunAsync(results, redis, zk, seconds, args.Get("callers", "1,4,16,64"), args.Get("impls", "") is { Length: > 0 } chosen ? chosen.Split(';') : null));
        await SuiteAsync("scale", () => ScaleBench.RunAsync(results, redis, zk, args.Get("held", "1,100,1000,10000")));
        await SuiteAsync("handoff", () => HandoffTableAsync(results, "handoff", redis, zk, handoffs, ["hybrid", "zookeeper-only", "redis-only", "DistributedLock.Redis", "RedLock.net"]));
        await SuiteAsync("primitives", async () =>
        {
            await UncontendedAsync(results, "primitives", "Semaphores and reader-writer locks, uncontended acquire+release", redis, zk, Math.Max(200, n / 2), PrimitivesOrder, keepSamples: false);
            await HandoffTableAsync(results, "primitives-handoff", redis, zk, handoffs, ["hybrid", "hybrid semaphore(1)", "hybrid write", "DistributedLock.Redis semaphore(1)", "DistributedLock.Redis write"]);
        });
        if (only.Contains("alloc"))
        {
            await AllocAsync(redis, zk, n, args.Get("impl", "hybrid"));
        }

        return 0;
    }

    // ---------------------------------------------------------------- uncontended

    private static async Task UncontendedAsync(BenchResults results, string id, string title, string redis, string zk, int n, string[] order, bool keepSamples)
    {
        var prefix = LockImplementations.NewPrefix();
        var impls = new List<ILockImpl>();
        foreach (var name in order)
        {
            impls.Add(await LockImplementations.CreateAsync(name, redis, zk, prefix));
        }

        var total = impls.ToDictionary(i => i.Name, _ => new List<double>(n));
        var acquire = impls.ToDictionary(i => i.Name, _ => new List<double>(n));
        var release = impls.ToDictionary(i => i.Name, _ => new List<double>(n));
        var allocated = impls.ToDictionary(i => i.Name, _ => 0L);
        var elapsed = impls.ToDictionary(i => i.Name, _ => 0.0);
        const string Key = "uncontended";
        static string KeyFor(ILockImpl impl) => impl.Name.Contains("new key", StringComparison.Ordinal) ? Key + Guid.NewGuid().ToString("N") : Key;
        foreach (var impl in impls)
        {
            for (var i = 0; i < 200; i++)
            {
                await using var h = await impl.AcquireAsync(KeyFor(impl), TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException($"{impl.Name} did not acquire");
            }
        }

        const int Round = 100;
        for (var done = 0; done < n; done += Round)
        {
            foreach (var impl in impls)
            {
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < Round; i++)
                {
                    var k = KeyFor(impl);
                    var t0 = Stopwatch.GetTimestamp();
                    var h = await impl.AcquireAsync(k, TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException($"{impl.Name} did not acquire");
                    var t1 = Stopwatch.GetTimestamp();
                    await h.DisposeAsync();
                    var t2 = Stopwatch.GetTimestamp();
                    total[impl.Name].Add(Ms(t2 - t0));
                    acquire[impl.Name].Add(Ms(t1 - t0));
                    release[impl.Name].Add(Ms(t2 - t1));
                }

                elapsed[impl.Name] += Stopwatch.GetElapsedTime(start).TotalSeconds;
                allocated[impl.Name] += GC.GetTotalAllocatedBytes(precise: true) - before;
            }
        }

        foreach (var list in total.Values.Concat(acquire.Values).Concat(release.Values))
        {
            list.Sort();
        }

        var floor = Percentile(total[order[0]], 50);
        var peer = total.TryGetValue("DistributedLock.Redis", out var p) ? Percentile(p, 50) : double.NaN;
        var table = new BenchTable
        {
            Id = id,
            Title = title,
            Header = ["implementation", "p50 ms", "p99 ms", "acquire p50 ms", "release p50 ms", $"× {order[0]} (p50)", "× DistributedLock.Redis (p50)", "ops/s", "allocated B/op"],
            Note = $"{n} acquire+release per implementation on one key (a new key each time where named), rounds of {Round} interleaved; ratios of p50s in this run.",
        };
        foreach (var impl in impls)
        {
            var p50 = Percentile(total[impl.Name], 50);
            table.Rows.Add(
            [
                impl.Name, F3(p50), F3(Percentile(total[impl.Name], 99)), F3(Percentile(acquire[impl.Name], 50)), F3(Percentile(release[impl.Name], 50)),
                F2(p50 / floor), F2(p50 / peer), F0(total[impl.Name].Count / elapsed[impl.Name]), F0(allocated[impl.Name] / (double)total[impl.Name].Count),
            ]);
            if (keepSamples)
            {
                results.Latency[impl.Name] = [.. total[impl.Name]];
            }
        }

        results.Add(table);
        foreach (var impl in impls)
        {
            await impl.DisposeAsync();
        }
    }

    // ---------------------------------------------------------------- try once

    private static async Task TryOnceAsync(BenchResults results, string redis, string zk, int n, string[] order)
    {
        using var writes = new ZooKeeperWriteCounter();
        var table = new BenchTable
        {
            Id = "try-once",
            Title = "Try once (timeout zero): a free key (acquire+release) and a key another process holds (the refusal)",
            Header = ["implementation", "free key p50 ms", "free key p99 ms", "held key p50 ms", "held key p99 ms", "held key × DistributedLock.Redis (p50)", "ZooKeeper writes per refusal"],
            Note = $"{n} attempts each, interleaved in rounds; the holder of the held key is another instance (its own connections, as another process). " +
                "ZooKeeper writes are the engine's create/delete requests (metric coordination.lock.zookeeper_writes), counted over a separate pass of 200 refusals.",
        };
        var rows = new List<(string Name, List<double> Free, List<double> Held, double Writes)>();
        var contenders = new List<ILockImpl>();
        var holders = new List<(ILockImpl Impl, IAsyncDisposable Handle)>();
        foreach (var name in order)
        {
            var prefix = LockImplementations.NewPrefix(); // each its own keys: hybrid and ZooKeeper-only would share a queue
            var contender = await LockImplementations.CreateAsync(name, redis, zk, prefix);
            var holder = await LockImplementations.CreateAsync(name, redis, zk, prefix);
            var held = await holder.AcquireAsync("held", TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException($"{name} did not take the held key");
            contenders.Add(contender);
            holders.Add((holder, held));
            rows.Add((name, new List<double>(n), new List<double>(n), 0));
            for (var i = 0; i < 100; i++)
            {
                await using (await contender.AcquireAsync("free", TimeSpan.Zero))
                {
                }

                await contender.AcquireAsync("held", TimeSpan.Zero);
            }
        }

        await Task.Delay(500); // the held keys' records are written
        for (var done = 0; done < n; done += 100)
        {
            for (var c = 0; c < contenders.Count; c++)
            {
                for (var i = 0; i < 100; i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    var h = await contenders[c].AcquireAsync("free", TimeSpan.Zero) ?? throw new InvalidOperationException($"{contenders[c].Name} did not take a free key");
                    await h.DisposeAsync();
                    var t1 = Stopwatch.GetTimestamp();
                    if (await contenders[c].AcquireAsync("held", TimeSpan.Zero) is { } wrong)
                    {
                        throw new InvalidOperationException($"{contenders[c].Name} granted a held key");
                    }

                    var t2 = Stopwatch.GetTimestamp();
                    rows[c].Free.Add(Ms(t1 - t0));
                    rows[c].Held.Add(Ms(t2 - t1));
                }
            }
        }

        for (var c = 0; c < contenders.Count; c++)
        {
            await Task.Delay(300);
            var before = writes.Total;
            for (var i = 0; i < 200; i++)
            {
                await contenders[c].AcquireAsync("held", TimeSpan.Zero);
            }

            await Task.Delay(300); // background deletes (refused ZooKeeper-only attempts leave through the janitor)
            rows[c] = rows[c] with { Writes = (writes.Total - before) / 200.0 };
        }

        foreach (var r in rows)
        {
            r.Free.Sort();
            r.Held.Sort();
        }

        var peer = rows.FirstOrDefault(r => r.Name == "DistributedLock.Redis").Held is { Count: > 0 } p ? Percentile(p, 50) : double.NaN;
        foreach (var r in rows)
        {
            var ours = !r.Name.StartsWith("DistributedLock", StringComparison.Ordinal) && !r.Name.StartsWith("RedLock", StringComparison.Ordinal);
            table.Rows.Add([r.Name, F3(Percentile(r.Free, 50)), F3(Percentile(r.Free, 99)), F3(Percentile(r.Held, 50)), F3(Percentile(r.Held, 99)), F2(Percentile(r.Held, 50) / peer), ours ? F2(r.Writes) : "-"]);
        }

        results.Add(table);
        foreach (var (impl, handle) in holders)
        {
            await handle.DisposeAsync();
            await impl.DisposeAsync();
        }

        foreach (var c in contenders)
        {
            await c.DisposeAsync();
        }
    }

    /// <summary>Counts the lock engine's ZooKeeper writes (creates and deletes) in this process.</summary>
    internal sealed class ZooKeeperWriteCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public ZooKeeperWriteCounter()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Coordination" && instrument.Name == "coordination.lock.zookeeper_writes")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }

    // ---------------------------------------------------------------- hand-off across two processes

    private static async Task HandoffTableAsync(BenchResults results, string id, string redis, string zk, int handoffs, string[] impls)
    {
        var table = new BenchTable
        {
            Id = id,
            Title = "Contended hand-off: two OS processes alternate on one key; time from the holder's release to the other's grant",
            Header = ["implementation", "p50 ms", "p99 ms", "grants that were hand-offs"],
            Note = $"{handoffs} grants per process; each holder releases once the other has asked and had 2 ms to park in the library's own wait. RedLock.net retries every {LockImplementations.RedLockRetry.TotalMilliseconds:0} ms.",
        };
        foreach (var impl in impls)
        {
            table.Rows.Add(await HandoffAsync(impl, redis, zk, handoffs));
        }

        results.Add(table);
    }

    private static async Task<string[]> HandoffAsync(string impl, string redis, string zk, int handoffs)
    {
        var prefix = LockImplementations.NewPrefix();
        var children = Enumerable.Range(0, 2).Select(side => Child.Start("locks-handoff-child", "--impl", impl, "--redis", redis, "--zk", zk, "--prefix", prefix, "--n", handoffs.ToString(Inv), "--side", side == 0 ? "a" : "b", "--redlock-retry-ms", LockImplementations.RedLockRetry.TotalMilliseconds.ToString(Inv))).ToList();
        await Child.StartTogetherAsync(children, impl);

        var events = new List<(long Acquired, long Released, int Child)>();
        var readers = children.Select(async (c, index) =>
        {
            var list = new List<(long, long, int)>();
            while (await c.StandardOutput.ReadLineAsync() is { } line && line != "DONE")
            {
                var parts = line.Split(' ');
                list.Add((long.Parse(parts[0], Inv), long.Parse(parts[1], Inv), index));
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
                handoff.Add(Ms(events[i].Acquired - events[i - 1].Released));
            }
        }

        handoff.Sort();
        return [impl, F3(Percentile(handoff, 50)), F3(Percentile(handoff, 99)), $"{handoff.Count} of {events.Count - 1}"];
    }

    public static async Task<int> HandoffChildAsync(string[] argv)
    {
        var args = new Args(argv);
        LockImplementations.RedLockRetry = TimeSpan.FromMilliseconds(args.GetInt("redlock-retry-ms", 10));
        var impl = await LockImplementations.CreateAsync(args.Get("impl", "hybrid"), args.Get("redis", ""), args.Get("zk", ""), args.Get("prefix", "bench:"));
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

    // ---------------------------------------------------------------- allocations by type

    private static async Task AllocAsync(string redis, string zk, int n, string name)
    {
        var impl = await LockImplementations.CreateAsync(name, redis, zk, LockImplementations.NewPrefix());
        for (var i = 0; i < 500; i++)
        {
            await using var h = await impl.AcquireAsync("alloc", TimeSpan.FromSeconds(10));
        }

        using var sampler = new AllocationSampler();
        await Task.Delay(500);
        var before = GC.GetTotalAllocatedBytes(true);
        sampler.Start();
        for (var i = 0; i < n; i++)
        {
            var h = await impl.AcquireAsync("alloc", TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException("not acquired");
            await h.DisposeAsync();
        }

        var types = sampler.Stop();
        var total = GC.GetTotalAllocatedBytes(true) - before;
        Console.WriteLine($"{name}: {total / n} B per acquire+release over {n}");
        var sampled = types.Sum(t => t.Bytes);
        foreach (var (type, bytes) in types.Take(40))
        {
            Console.WriteLine(string.Create(Inv, $"{bytes * 100.0 / sampled,6:0.0}% {(double)total / n * bytes / sampled,7:0} B  {type}"));
        }

        await impl.DisposeAsync();
    }

    public static string F0(double v) => double.IsFinite(v) ? v.ToString("0", Inv) : "-";

    public static string F2(double v) => double.IsFinite(v) ? v.ToString("0.00", Inv) : "-";

    public static string F3(double v) => double.IsFinite(v) ? v.ToString("0.000", Inv) : "-";
}

using System.Diagnostics;
using static Coordination.Benchmarks.Locks.LockBench;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// Contended throughput: P OS processes × T tasks all loop acquire → release on one key for the run's seconds; the
/// figure is grants per second over all of them, the spread of grants between processes (an unfair lock lets one
/// process take most) and how long a caller waited for its grant. Each waiter waits at most until the run ends. Implementations run one after another, the
/// order reversed for every process count so that neither end of the run always gets the quieter machine.
/// </summary>
internal static class ContendedBench
{
    private static readonly string[] Impls = ["hybrid", "zookeeper-only", "redis-only", "DistributedLock.Redis", "RedLock.net"];

    public static async Task RunAsync(BenchResults results, string redis, string zk, int seconds, string processCounts, int tasks)
    {
        var counts = processCounts.Split(',').Select(c => int.Parse(c, Inv)).ToArray();
        var table = new BenchTable
        {
            Id = "contended",
            Title = $"Contended throughput: OS processes × {tasks} tasks on one key, grants per second",
            Header = ["implementation", .. counts.Select(c => $"{c} × {tasks}"), $"hybrid ÷ this ({counts.Max()} × {tasks})", $"share of grants per process ({counts.Max()} × {tasks}), min–max", $"wait for a grant p50 / p99 / max ms ({counts.Max()} × {tasks})", $"hand-off p50 ms ({counts.Max()} × {tasks})", $"Redis commands / ZooKeeper requests per grant ({counts.Max()} × {tasks})"],
            Note = $"{seconds} s per cell; no work inside the lock; every grant is a release by one holder and an acquisition by the next. RedLock.net retries every {LockImplementations.RedLockRetry.TotalMilliseconds:0} ms (its README's example: 1 s); DistributedLock.Redis uses its default busy-wait.",
        };
        var cells = Impls.ToDictionary(i => i, _ => new Dictionary<int, Cell>());
        await using var mux = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
        var server = mux.GetServers()[0];
        for (var c = 0; c < counts.Length; c++)
        {
            foreach (var impl in c % 2 == 0 ? Impls : Impls.Reverse())
            {
                cells[impl][counts[c]] = await RunOnceAsync(impl, redis, zk, counts[c], tasks, seconds, server);
                Console.WriteLine($"#   {impl} {counts[c]}×{tasks}: {cells[impl][counts[c]].PerSecond:0} grants/s");
            }
        }

        var top = counts.Max();
        foreach (var impl in Impls)
        {
            var cell = cells[impl][top];
            table.Rows.Add([impl, .. counts.Select(c => F0(cells[impl][c].PerSecond)), F2(cells["hybrid"][top].PerSecond / cell.PerSecond), cell.Spread, cell.Waits, cell.Handoff, cell.Requests]);
            results.Contended[impl] = counts.Select(c => new[] { (double)c * tasks, cells[impl][c].PerSecond }).ToList();
        }

        results.Add(table);
    }

    private sealed record Cell(double PerSecond, string Spread, string Waits, string Handoff, string Requests);

    private static async Task<Cell> RunOnceAsync(string impl, string redis, string zk, int processes, int tasks, int seconds, StackExchange.Redis.IServer server)
    {
        var prefix = LockImplementations.NewPrefix();
        var children = Enumerable.Range(0, processes)
            .Select(_ => Child.Start("locks-contended-child", "--impl", impl, "--redis", redis, "--zk", zk, "--prefix", prefix, "--tasks", tasks.ToString(Inv), "--seconds", seconds.ToString(Inv), "--redlock-retry-ms", LockImplementations.RedLockRetry.TotalMilliseconds.ToString(Inv)))
            .ToList();
        await Child.StartTogetherAsync(children, impl);
        var redis0 = await BenchEnvironment.ServerRedisCommandsAsync(server);
        var zk0 = await BenchEnvironment.ServerZooKeeperRequestsAsync(zk);
        var grants = new List<long>();
        var waits = new List<double>();
        var held = new List<(long Granted, long Released)>();
        foreach (var c in children)
        {
            var line = await c.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException($"{impl} child printed nothing");
            grants.Add(long.Parse(line, Inv));
            waits.AddRange(((await c.StandardOutput.ReadLineAsync()) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => double.Parse(w, Inv)));
            var stamps = ((await c.StandardOutput.ReadLineAsync()) ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => long.Parse(w, Inv)).ToArray();
            for (var i = 0; i + 1 < stamps.Length; i += 2)
            {
                held.Add((stamps[i], stamps[i + 1]));
            }

            await c.WaitForExitAsync();
        }

        // Counted while the children wind down too (their last waits end with the run): an upper bound per grant.
        var redisCommands = await BenchEnvironment.ServerRedisCommandsAsync(server) - redis0;
        var zkRequests = await BenchEnvironment.ServerZooKeeperRequestsAsync(zk) - zk0;

        // Hand-off: from one holder's release call to the next holder's grant (timestamps are CLOCK_MONOTONIC in every process).
        held.Sort((a, b) => a.Granted.CompareTo(b.Granted));
        var handoffs = new List<double>();
        for (var i = 1; i < held.Count; i++)
        {
            handoffs.Add(BenchEnvironment.Ms(held[i].Granted - held[i - 1].Released));
        }

        handoffs.Sort();
        Console.WriteLine($"#     {impl}: hand-off p50 {BenchEnvironment.Percentile(handoffs, 50):0.00} ms, p90 {BenchEnvironment.Percentile(handoffs, 90):0.00} ms");
        waits.Sort();
        var total = grants.Sum();
        return new Cell(
            total / (double)seconds,
            total == 0 ? "-" : $"{grants.Min() * 100.0 / total:0}–{grants.Max() * 100.0 / total:0} %",
            waits.Count == 0 ? "-" : $"{BenchEnvironment.Percentile(waits, 50):0.0} / {BenchEnvironment.Percentile(waits, 99):0} / {waits[^1]:0}",
            handoffs.Count == 0 ? "-" : F2(BenchEnvironment.Percentile(handoffs, 50)),
            total == 0 ? "-" : $"{redisCommands / (double)total:0.0} / {zkRequests / (double)total:0.0}");
    }

    /// <summary>One process of the contended run: <c>--tasks</c> tasks loop on the key until <c>--seconds</c> pass.</summary>
    public static async Task<int> ChildAsync(string[] argv)
    {
        var args = new Args(argv);
        LockImplementations.RedLockRetry = TimeSpan.FromMilliseconds(args.GetInt("redlock-retry-ms", 10));
        var impl = await LockImplementations.CreateAsync(args.Get("impl", "hybrid"), args.Get("redis", ""), args.Get("zk", ""), args.Get("prefix", "bench:"));
        var tasks = args.GetInt("tasks", 4);
        var seconds = args.GetInt("seconds", 4);
        for (var i = 0; i < 50; i++)
        {
            await using var h = await impl.AcquireAsync("warmup-" + Environment.ProcessId, TimeSpan.FromSeconds(10));
        }

        Console.WriteLine("READY");
        _ = Console.ReadLine();
        var end = Stopwatch.GetTimestamp() + seconds * Stopwatch.Frequency;
        var grants = 0L;
        var waits = new System.Collections.Concurrent.ConcurrentBag<double>();
        var stamps = new System.Collections.Concurrent.ConcurrentBag<(long, long)>();
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var asked = Stopwatch.GetTimestamp();
                var left = Stopwatch.GetElapsedTime(asked, end);
                if (left <= TimeSpan.Zero)
                {
                    return;
                }

                var h = await impl.AcquireAsync("contended", left);
                if (h is null)
                {
                    return;
                }

                var granted = Stopwatch.GetTimestamp();
                if (granted < end)
                {
                    Interlocked.Increment(ref grants);
                    waits.Add(Stopwatch.GetElapsedTime(asked, granted).TotalMilliseconds);
                }

                var released = Stopwatch.GetTimestamp();
                await h.DisposeAsync();
                if (granted < end)
                {
                    stamps.Add((granted, released));
                }
            }
        })));
        Console.WriteLine(grants);
        Console.WriteLine(string.Join(' ', waits.Select(w => w.ToString("0.00", Inv))));
        Console.WriteLine(string.Join(' ', stamps.Select(s => s.Item1.ToString(Inv) + " " + s.Item2.ToString(Inv))));
        await impl.DisposeAsync();
        return 0;
    }
}

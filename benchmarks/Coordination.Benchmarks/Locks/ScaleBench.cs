using System.Diagnostics;
using System.Diagnostics.Metrics;
using StackExchange.Redis;
using static Coordination.Benchmarks.Locks.BenchEnvironment;
using static Coordination.Benchmarks.Locks.LockBench;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// Scale of held locks: one hybrid provider holds 1, 100, 1,000 and 10,000 locks (distinct keys) at once. For each
/// count: managed memory per held lock (heap after a full collection, over the heap before the first lock), the
/// ZooKeeper server's watches (<c>wchs</c>), what one watchdog period costs in Redis (script calls and commands from
/// <c>INFO commandstats</c>, the tick's duration from the <c>coordination.lock.renewal.duration</c> metric) with a 3 s
/// lease (a tick every second), and the acquire+release latency of one more key while they are held.
/// </summary>
internal static class ScaleBench
{
    public static async Task RunAsync(BenchResults results, string redis, string zk, string heldCounts)
    {
        var counts = heldCounts.Split(',').Select(c => int.Parse(c, Inv)).ToArray();
        var lease = TimeSpan.FromSeconds(3);
        var impl = await LockImplementations.CreateAsync("hybrid", redis, zk, LockImplementations.NewPrefix(), o => o.RedisLease = lease);
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis + ",allowAdmin=true");
        var server = mux.GetServers()[0];
        using var ticks = new RenewalListener();

        // Warm the provider up (connections, pools, JIT) before the baseline.
        for (var i = 0; i < 300; i++)
        {
            await using var h = await impl.AcquireAsync("probe", TimeSpan.FromSeconds(10));
        }

        var baselineWatches = await ServerWatchesAsync(zk);
        var baselineHeap = Heap();
        var held = new List<IAsyncDisposable>();
        var table = new BenchTable
        {
            Id = "scale",
            Title = "Scale of held locks: one process holding N hybrid locks on distinct keys",
            Header = ["held", "managed memory per held lock", "ZooKeeper watches", "watchdog calls to Redis per period", "Redis commands run per period (inside the scripts too)", "watchdog tick ms", "acquire+release p50 ms (one more key)", "p99 ms"],
            Note = $"Lease {lease.TotalSeconds:0} s, so the watchdog renews every {lease.TotalSeconds / 3:0} s; calls (scripts) and commands are counted by Redis (INFO commandstats) over 3 periods, and every call of one tick is sent at once. Memory is the heap after a full collection, over the heap before the first lock, divided by N (handles, local queue entries, records, watches, the client's caches); below 100 locks it is within the heap's noise (-).",
        };
        foreach (var n in counts)
        {
            var add = n - held.Count;
            var next = held.Count;
            var acquired = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
            {
                var mine = new List<IAsyncDisposable>();
                while (Interlocked.Increment(ref next) is var k && k <= n)
                {
                    mine.Add(await impl.AcquireAsync("held" + k.ToString(Inv), TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("not acquired"));
                }

                return mine;
            })));
            held.AddRange(acquired.SelectMany(a => a));
            if (held.Count != n)
            {
                throw new InvalidOperationException($"holding {held.Count} locks, not {n}");
            }

            await Task.Delay(1500); // own-node watches are armed 50 ms after each grant; records written
            var perLock = (Heap() - baselineHeap) / (double)n;
            var watches = await ServerWatchesAsync(zk) - baselineWatches;

            // Three watchdog periods, counted by Redis.
            await ticks.NextTickAsync();
            var before = await CommandStatsAsync(server);
            var tickMs = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                tickMs.Add(await ticks.NextTickAsync());
            }

            var after = await CommandStatsAsync(server);
            var scripts = (after.Scripts - before.Scripts) / 3.0;
            var commands = (after.Commands - before.Commands) / 3.0;

            var latency = new List<double>();
            for (var i = 0; i < 200; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var h = await impl.AcquireAsync("probe", TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException("probe not acquired");
                await h.DisposeAsync();
                latency.Add(Ms(Stopwatch.GetTimestamp() - t0));
            }

            latency.Sort();
            table.Rows.Add([n.ToString("N0", Inv), n < 100 ? "-" : $"{perLock:0} B", watches.ToString(Inv), F0(scripts), F0(commands), F2(tickMs.Max()), F3(Percentile(latency, 50)), F3(Percentile(latency, 99))]);
            Console.WriteLine($"#   {n} held: {perLock:0} B/lock, {watches} watches, {scripts:0} scripts/period, tick {tickMs.Max():0.0} ms");
        }

        results.Add(table);
        foreach (var h in held)
        {
            await h.DisposeAsync();
        }

        await impl.DisposeAsync();
    }

    private static long Heap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<(long Scripts, long Commands)> CommandStatsAsync(IServer server)
    {
        long scripts = 0, commands = 0;
        foreach (var group in await server.InfoAsync("commandstats"))
        {
            foreach (var (name, value) in group)
            {
                // cmdstat_evalsha: calls=12,usec=...
                var calls = long.Parse(value.Split(',')[0].Split('=')[1], Inv);
                commands += calls;
                if (name is "cmdstat_evalsha" or "cmdstat_eval")
                {
                    scripts += calls;
                }
            }
        }

        return (scripts, commands);
    }

    /// <summary>Watchdog ticks of this process, from the engine's renewal metric.</summary>
    private sealed class RenewalListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        private TaskCompletionSource<double> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RenewalListener()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Coordination" && instrument.Name == "coordination.lock.renewal.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, ms, _, _) => Interlocked.Exchange(ref _next, new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(ms));
            _listener.Start();
        }

        /// <summary>The duration of the next tick, in ms.</summary>
        public Task<double> NextTickAsync() => Volatile.Read(ref _next).Task.WaitAsync(TimeSpan.FromSeconds(30));

        public void Dispose() => _listener.Dispose();
    }
}

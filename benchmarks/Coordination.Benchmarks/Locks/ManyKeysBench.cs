using System.Diagnostics;
using static Coordination.Benchmarks.Locks.LockBench;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// Many keys: C concurrent callers in one process, each looping acquire → release on its own key (nobody waits for
/// anybody), acquire+release per second. The floor is the same work by hand on one pipelined connection (create +
/// getChildren in one write, delete, the record's Redis commands fire-and-forget: <see cref="LockImplementations.PipelinedFloor"/>).
/// For each caller count the implementations take turns in half-second slices (the order reversed every other turn)
/// until each ran the run's seconds; client CPU per operation is the process's CPU time over the operations.
/// </summary>
internal static class ManyKeysBench
{
    /// <summary>Implementations take turns in slices this long, so load from outside hits each alike.</summary>
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(500);

    private static readonly string[] DefaultImpls = ["floor", "hybrid", "zookeeper-only", "redis-only", "DistributedLock.Redis", "RedLock.net"];

    public static async Task RunAsync(BenchResults results, string redis, string zk, int seconds, string callerCounts, string[]? only = null)
    {
        var Impls = only ?? DefaultImpls;
        var counts = callerCounts.Split(',').Select(c => int.Parse(c, Inv)).ToArray();
        var prefix = LockImplementations.NewPrefix();
        var impls = new List<ILockImpl>();
        foreach (var name in Impls)
        {
            impls.Add(await LockImplementations.CreateAsync(name, redis, zk, prefix));
        }

        var ops = impls.ToDictionary(i => i.Name, _ => new Dictionary<int, (long Ops, double Seconds)>());
        var cpu = impls.ToDictionary(i => i.Name, _ => new Dictionary<int, double>());
        foreach (var c in counts)
        {
            foreach (var impl in impls)
            {
                await RunAsync(impl, c, TimeSpan.FromSeconds(0.5)); // warm the keys (and their directories) up
                ops[impl.Name][c] = (0, 0);
            }

            var slices = (int)Math.Ceiling(seconds / Slice.TotalSeconds);
            for (var round = 0; round < slices; round++)
            {
                foreach (var impl in round % 2 == 0 ? impls : Enumerable.Reverse(impls))
                {
                    var sw = Stopwatch.StartNew();
                    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    var done = await RunAsync(impl, c, Slice);
                    cpu[impl.Name][c] = cpu[impl.Name].GetValueOrDefault(c) + (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds;
                    var (o, s) = ops[impl.Name][c];
                    ops[impl.Name][c] = (o + done, s + sw.Elapsed.TotalSeconds);
                }
            }

            Console.WriteLine($"#   {c} callers: " + string.Join(", ", impls.Select(i => $"{i.Name} {ops[i.Name][c].Ops / ops[i.Name][c].Seconds:0}/s ({cpu[i.Name][c] / ops[i.Name][c].Ops:0} µs CPU/op)")));
        }

        double PerSecond(string name, int c) => ops[name][c].Ops / ops[name][c].Seconds;
        var top = counts.Max();
        var table = new BenchTable
        {
            Id = "many-keys",
            Title = "Many keys: concurrent callers in one process, each on its own key, acquire+release per second",
            Header = ["implementation", .. counts.Select(c => $"{c} caller{(c == 1 ? "" : "s")}"), $"× floor ({top})", $"client CPU µs per op ({top})"],
            Note = $"{seconds} s per cell, in {Slice.TotalMilliseconds:0} ms slices taking turns. The floor: create + getChildren in one write and delete on one raw pipelined ZooKeeper connection, plus the record's SET and release script on StackExchange.Redis, for every caller.",
        };
        foreach (var impl in impls)
        {
            table.Rows.Add([impl.Name, .. counts.Select(c => F0(PerSecond(impl.Name, c))), F2(PerSecond(impl.Name, top) / PerSecond("floor", top)), F0(cpu[impl.Name][top] / ops[impl.Name][top].Ops)]);
            results.ManyKeys[impl.Name] = counts.Select(c => new[] { (double)c, PerSecond(impl.Name, c) }).ToList();
        }

        results.Add(table);
        foreach (var impl in impls)
        {
            await impl.DisposeAsync();
        }
    }

    private static async Task<long> RunAsync(ILockImpl impl, int callers, TimeSpan duration)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var done = 0L;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
        {
            var key = "many" + i.ToString(Inv);
            while (Stopwatch.GetTimestamp() < end)
            {
                var h = await impl.AcquireAsync(key, TimeSpan.FromSeconds(10)) ?? throw new InvalidOperationException($"{impl.Name} did not acquire {key}");
                await h.DisposeAsync();
                Interlocked.Increment(ref done);
            }
        })));
        return done;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Coordination.ZooKeeper;

namespace Coordination.Benchmarks.ZooKeeper;

/// <summary>
/// <c>zk-latency</c>: per-operation latency (exists / create ephemeral-sequential / delete, one at a time) of the
/// raw-socket floor and of <see cref="ZooKeeperClient"/>, interleaved in one process against one server after a
/// warmup; then ZooKeeperClient's throughput with one caller vs many concurrent callers (pipelined). Prints markdown.
/// With <c>--zk-tls</c> (a secureClientPort), <c>--zk-tls-plain</c> (the same server's plain port) and <c>--ca</c>, two
/// more clients join the same rounds: ZooKeeperClient on that server's plain port and on its TLS port, so the TLS
/// cost is read against the same server.
/// </summary>
internal static class ZkLatency
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed class Impl(string name, Func<string, ValueTask> exists, Func<string, ValueTask<string>> create, Func<string, ValueTask> delete, string prefix)
    {
        public string Name { get; } = name;

        public long[][] Ticks { get; } = [[], [], []];

        public async ValueTask CycleAsync(string root, int record)
        {
            var t0 = Stopwatch.GetTimestamp();
            await exists(root);
            var t1 = Stopwatch.GetTimestamp();
            var path = await create(prefix);
            var t2 = Stopwatch.GetTimestamp();
            await delete(path);
            var t3 = Stopwatch.GetTimestamp();
            if (record >= 0)
            {
                Ticks[0][record] = t1 - t0;
                Ticks[1][record] = t2 - t1;
                Ticks[2][record] = t3 - t2;
            }
        }
    }

    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        var server = args.Get("zk", Environment.GetEnvironmentVariable("COORD_ZK") ?? "127.0.0.1:2181");
        var n = args.GetInt("n", 20_000);
        var warmup = args.GetInt("warmup", Math.Max(2_000, n / 10));
        var seconds = args.GetInt("seconds", 5);
        var callers = args.GetInt("callers", 64);
        var tlsServer = args.Get("zk-tls", string.Empty);
        var tlsPlainServer = args.Get("zk-tls-plain", Environment.GetEnvironmentVariable("COORD_ZK_TLS_PLAIN") ?? string.Empty);
        var ca = args.Get("ca", Environment.GetEnvironmentVariable("COORD_TLS_CA") ?? string.Empty);
        if (tlsServer.Length > 0 && (tlsPlainServer.Length == 0 || ca.Length == 0))
        {
            Console.Error.WriteLine("--zk-tls needs --zk-tls-plain (the same server's plain port) and --ca (its CA's PEM file)");
            return 2;
        }

        await using var ours = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectionString = server, SessionTimeout = TimeSpan.FromSeconds(60) });
        var disposables = new List<ZooKeeperClient>();
        var cleanup = new List<Func<Task>>();
        using var floor = await RawZk.ConnectAsync(server);
        using var blocking = await RawZk.ConnectAsync(server);
        var root = "/bench-" + Guid.NewGuid().ToString("N")[..8];
        await ours.CreateAsync(root, ReadOnlyMemory<byte>.Empty);
        try
        {
            List<Impl> all =
            [
                new("floor: raw socket, async", p => Ignore(floor.ExistsAsync(p)), floor.CreateEphemeralSequentialAsync, floor.DeleteAsync, root + "/f-"),
                new("floor: raw socket, blocking", p => { blocking.ExistsSync(p); return default; }, p => new(blocking.CreateEphemeralSequentialSync(p)), p => { blocking.DeleteSync(p); return default; }, root + "/b-"),
            ];
            if (tlsServer.Length > 0)
            {
                // The secure server's own root, created by its plain client; both clients work under it.
                var plain = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectionString = tlsPlainServer, SessionTimeout = TimeSpan.FromSeconds(60) });
                var tls = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
                {
                    ConnectionString = tlsServer,
                    SessionTimeout = TimeSpan.FromSeconds(60),
                    Tls = new ZooKeeperTlsOptions { Enabled = true, CaFile = ca },
                });
                disposables.Add(plain);
                disposables.Add(tls);
                await plain.CreateAsync(root, ReadOnlyMemory<byte>.Empty);
                cleanup.Add(() => plain.DeleteAsync(root));
                all.Add(Ours("ZooKeeperClient, secure server, plain port", plain, root + "/p-"));
                all.Add(Ours("ZooKeeperClient, secure server, TLS port", tls, root + "/t-"));
            }

            all.Add(Ours("ZooKeeperClient", ours, root + "/o-"));
            Impl[] impls = [.. all];

            Console.WriteLine($"server {server}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, warmup {warmup} cycles, {n} measured cycles per client (interleaved)");
            for (var i = 0; i < warmup; i++)
            {
                foreach (var impl in impls)
                {
                    await impl.CycleAsync(root, -1);
                }
            }

            foreach (var impl in impls)
            {
                for (var k = 0; k < 3; k++)
                {
                    impl.Ticks[k] = new long[n];
                }
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            for (var i = 0; i < n; i++)
            {
                // Rotate who goes first so no client always follows the same one.
                for (var j = 0; j < impls.Length; j++)
                {
                    await impls[(i + j) % impls.Length].CycleAsync(root, i);
                }
            }

            PrintLatencies(impls);
            await PrintThroughputAsync(ours, floor, root, seconds, callers);
        }
        finally
        {
            await ours.DeleteAsync(root);
            foreach (var c in cleanup)
            {
                await c();
            }

            foreach (var d in disposables)
            {
                await d.DisposeAsync();
            }
        }

        return 0;
    }

    private static Impl Ours(string name, ZooKeeperClient zk, string prefix) =>
        new(name, p => new(zk.ExistsAsync(p)), async p => (await zk.CreateAsync(p, ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential)).Path, p => new(zk.DeleteAsync(p)), prefix);

    private static async ValueTask Ignore(ValueTask<bool> t) => await t;

    private static void PrintLatencies(Impl[] impls)
    {
        string[] ops = ["exists", "create ephemeral-sequential", "delete"];
        var stats = impls.Select(i => i.Ticks.Select(Stats).ToArray()).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine().AppendLine("| client | operation | p50 µs | p99 µs | mean µs | ops/s (1 caller) |").AppendLine("|---|---|---:|---:|---:|---:|");
        for (var o = 0; o < ops.Length; o++)
        {
            for (var i = 0; i < impls.Length; i++)
            {
                var s = stats[i][o];
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {impls[i].Name} | {ops[o]} | {s.P50:F0} | {s.P99:F0} | {s.Mean:F0} | {1e6 / s.Mean:F0} |");
            }
        }

        sb.AppendLine().AppendLine("| operation | ours p50 / async floor p50 | ours p50 / blocking floor p50 | ours p99 / async floor p99 |").AppendLine("|---|---:|---:|---:|");
        var oursIndex = impls.Length - 1;
        for (var o = 0; o < ops.Length; o++)
        {
            var us = stats[oursIndex][o];
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {ops[o]} | {us.P50 / stats[0][o].P50:F2}x | {us.P50 / stats[1][o].P50:F2}x | {us.P99 / stats[0][o].P99:F2}x |");
        }

        var plainIndex = Array.FindIndex(impls, i => i.Name.EndsWith("plain port", StringComparison.Ordinal));
        if (plainIndex >= 0)
        {
            sb.AppendLine().AppendLine("| operation (secure server) | TLS p50 / plain p50 | TLS p99 / plain p99 |").AppendLine("|---|---:|---:|");
            for (var o = 0; o < ops.Length; o++)
            {
                var (plain, tls) = (stats[plainIndex][o], stats[plainIndex + 1][o]);
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {ops[o]} | {tls.P50 / plain.P50:F2}x | {tls.P99 / plain.P99:F2}x |");
            }
        }

        Console.Write(sb.ToString());
    }

    private static (double P50, double P99, double Mean) Stats(long[] ticks)
    {
        var sorted = ticks.Order().ToArray();
        double Us(long t) => t * 1e6 / Stopwatch.Frequency;
        return (Us(sorted[(int)(0.50 * (sorted.Length - 1))]), Us(sorted[(int)(0.99 * (sorted.Length - 1))]), sorted.Average(t => Us(t)));
    }

    private static async Task PrintThroughputAsync(ZooKeeperClient zk, RawZk floor, string root, int seconds, int callers)
    {
        var sb = new StringBuilder();
        var pipelinedExists = 0.0;
        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"ZooKeeperClient throughput, {seconds} s per row (after a 1 s warmup):")
            .AppendLine().AppendLine("| workload | callers | ops/s | vs 1 caller | client CPU µs/op |").AppendLine("|---|---:|---:|---:|---:|");
        foreach (var (name, work) in new (string, Func<int, Task<int>>)[]
        {
            ("exists", async _ =>
            {
                await zk.ExistsAsync(root);
                return 1;
            }),
            ("exists + create ephemeral-sequential + delete", async c =>
            {
                await zk.ExistsAsync(root);
                var p = await zk.CreateAsync(root + "/t" + c.ToString(Inv) + "-", ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential);
                await zk.DeleteAsync(p.Path);
                return 3;
            }),
        })
        {
            var sequential = 0.0;
            foreach (var count in new[] { 1, callers })
            {
                await RunCallersAsync(count, TimeSpan.FromSeconds(1), work);
                var cpu = CpuTime();
                var opsPerSecond = await RunCallersAsync(count, TimeSpan.FromSeconds(seconds), work);
                var cpuPerOp = (CpuTime() - cpu).TotalMicroseconds / (opsPerSecond * seconds);
                if (count == 1)
                {
                    sequential = opsPerSecond;
                }
                else if (name == "exists")
                {
                    pipelinedExists = opsPerSecond;
                }

                sb.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {count} | {opsPerSecond:F0} | {opsPerSecond / sequential:F2}x | {cpuPerOp:F1} |");
            }
        }

        // What the server can do on one connection here: the floor keeping `callers` requests in flight.
        await floor.ExistsWindowAsync(root, callers, TimeSpan.FromSeconds(1));
        var before = CpuTime();
        var ceiling = await floor.ExistsWindowAsync(root, callers, TimeSpan.FromSeconds(seconds));
        var ceilingCpu = (CpuTime() - before).TotalMicroseconds / (ceiling * seconds);
        sb.AppendLine(CultureInfo.InvariantCulture, $"| exists, raw-socket floor with {callers} in flight (server ceiling, no client logic) | - | {ceiling:F0} | | {ceilingCpu:F1} |");
        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"{callers} pipelined callers reach {pipelinedExists / ceiling:P0} of this server's one-connection ceiling for exists.");
        Console.Write(sb.ToString());
    }

    private static TimeSpan CpuTime()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime;
    }

    private static async Task<double> RunCallersAsync(int callers, TimeSpan duration, Func<int, Task<int>> work)
    {
        var sw = Stopwatch.StartNew();
        var deadline = sw.Elapsed + duration;
        var counts = await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var ops = 0L;
            while (sw.Elapsed < deadline)
            {
                ops += await work(c);
            }

            return ops;
        })));
        return counts.Sum() / sw.Elapsed.TotalSeconds;
    }
}

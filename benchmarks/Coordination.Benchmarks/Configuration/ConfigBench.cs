using System.Diagnostics;
using System.Globalization;
using System.Text;
using Coordination.Configuration;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Configuration;

namespace Coordination.Benchmarks.Configuration;

/// <summary>
/// Configuration propagation: one writer sets a znode; 10 subscribers (each its own configuration source, ZooKeeper
/// session and Redis connection, as 10 app instances would have) measure the time from just before the write to their
/// <c>OnConfigurationChanged</c> callback. Also the read latency of a cached value through <see cref="IConfiguration"/>.
/// </summary>
internal static class ConfigBench
{
    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        var redis = args.Get("redis", Environment.GetEnvironmentVariable("COORD_REDIS") ?? "127.0.0.1:6379");
        var zk = args.Get("zk", Environment.GetEnvironmentVariable("COORD_ZK") ?? "127.0.0.1:2181");
        var subscribers = args.GetInt("subscribers", 10);
        var changes = args.GetInt("n", 300);
        var root = "/bench-config-" + Guid.NewGuid().ToString("N")[..8];

        await using var writer = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectionString = zk });
        await writer.CreateAsync(root, ReadOnlyMemory<byte>.Empty);
        await writer.CreateAsync(root + "/Value", Encoding.UTF8.GetBytes("0"));

        var roots = new List<IConfigurationRoot>();
        var arrivals = new long[subscribers];
        var pending = new CountdownEvent(0);
        for (var i = 0; i < subscribers; i++)
        {
            var config = new ConfigurationBuilder().AddZooKeeper(o =>
            {
                o.ZooKeeper = zk;
                o.Redis = redis;
                o.RedisPrefix = "bench:";
                o.Path = root;
            }).Build();
            var index = i;
            config.OnConfigurationChanged("Value", _ =>
            {
                arrivals[index] = Stopwatch.GetTimestamp();
                pending.Signal();
            });
            roots.Add(config);
        }

        var samples = new List<double>(changes * subscribers);
        for (var c = 1; c <= changes + 20; c++)
        {
            pending.Reset(subscribers);
            var start = Stopwatch.GetTimestamp();
            await writer.SetDataAsync(root + "/Value", Encoding.UTF8.GetBytes(c.ToString(CultureInfo.InvariantCulture)));
            if (!pending.Wait(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"change {c} did not reach every subscriber");
            }

            if (c > 20)
            {
                samples.AddRange(arrivals.Select(a => (a - start) * 1000.0 / Stopwatch.Frequency));
            }

            await Task.Delay(2); // let the last batch close, as real changes are spaced
        }

        var reads = new List<double>();
        var cfg = roots[0];
        for (var i = 0; i < 2_000; i++)
        {
            // Batches of 100 reads: one read is below the clock's resolution.
            var t = Stopwatch.GetTimestamp();
            for (var j = 0; j < 100; j++)
            {
                _ = cfg["Value"];
            }

            reads.Add((Stopwatch.GetTimestamp() - t) * 1e9 / Stopwatch.Frequency / 100);
        }

        samples.Sort();
        reads.Sort();
        Console.WriteLine($"# Configuration: {changes} changes x {subscribers} subscribers; zookeeper {zk}, redis {redis}");
        Console.WriteLine("| measure | p50 | p99 |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| write -> OnConfigurationChanged (ms) | {samples[samples.Count / 2]:0.00} | {samples[(int)(samples.Count * 0.99)]:0.00} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| cached read IConfiguration[key] (ns, mean of 100) | {reads[reads.Count / 2]:0} | {reads[(int)(reads.Count * 0.99)]:0} |"));
        foreach (var r in roots)
        {
            (r as IDisposable)?.Dispose();
        }

        return 0;
    }
}

using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Cluster;

/// <summary>
/// Does sharded pub/sub pay for the release bell on a Redis Cluster? Both variants ring from a Lua script on the key's
/// master, as the release script does. Classic: <c>PUBLISH coord:released</c>, which the cluster bus copies to every
/// node, heard by one process-wide subscription. Sharded: <c>SPUBLISH coord:{key}:released</c>, delivered only by the
/// key's shard, but a waiter must <c>SSUBSCRIBE</c> to its key's channel before it tries (and unsubscribe after). Rounds
/// interleave both; figures: release-to-wake latency, and the sharded waiter's subscribe + unsubscribe cost.
/// </summary>
internal static class ClusterPubSubBench
{
    private const string RingScript = "redis.call(ARGV[1], ARGV[2], ARGV[3]) return 1";

    public static async Task<int> RunAsync(string[] argv)
    {
        var args = new Args(argv);
        var cluster = args.Get("cluster", "127.0.0.1:6400,127.0.0.1:6401,127.0.0.1:6402,127.0.0.1:6403,127.0.0.1:6404,127.0.0.1:6405");
        var n = args.GetInt("n", 2000);
        await using var publisher = await ConnectionMultiplexer.ConnectAsync(cluster);
        await using var waiter = await ConnectionMultiplexer.ConnectAsync(cluster);
        var db = publisher.GetDatabase();
        var prefix = "bench" + Guid.NewGuid().ToString("N")[..8] + ":";
        var classic = RedisChannel.Literal(prefix + "released");
        TaskCompletionSource<string>? pending = null;
        await waiter.GetSubscriber().SubscribeAsync(classic, (_, m) => pending?.TrySetResult(m!));

        var classicWake = new List<double>(n);
        var shardedWake = new List<double>(n);
        var shardedSubscribe = new List<double>(n);
        for (var i = -50; i < n; i++) // 50 warm-up rounds
        {
            var key = "k" + i;
            var record = prefix + "{" + key + "}:lock";

            pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var t0 = Stopwatch.GetTimestamp();
            await db.ScriptEvaluateAsync(RingScript, [record], ["PUBLISH", (string)classic!, key]);
            await pending.Task;
            var classicMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;

            var sharded = RedisChannel.Sharded(prefix + "{" + key + "}:released");
            var woke = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var s0 = Stopwatch.GetTimestamp();
            await waiter.GetSubscriber().SubscribeAsync(sharded, (_, m) => woke.TrySetResult(m!));
            var subscribeMs = Stopwatch.GetElapsedTime(s0).TotalMilliseconds;
            var t1 = Stopwatch.GetTimestamp();
            await db.ScriptEvaluateAsync(RingScript, [record], ["SPUBLISH", (string)sharded!, key]);
            await woke.Task;
            var shardedMs = Stopwatch.GetElapsedTime(t1).TotalMilliseconds;
            var u0 = Stopwatch.GetTimestamp();
            await waiter.GetSubscriber().UnsubscribeAsync(sharded);
            subscribeMs += Stopwatch.GetElapsedTime(u0).TotalMilliseconds;

            if (i >= 0)
            {
                classicWake.Add(classicMs);
                shardedWake.Add(shardedMs);
                shardedSubscribe.Add(subscribeMs);
            }
        }

        Console.WriteLine($"cluster {cluster}, {n} rounds, interleaved");
        Console.WriteLine("| variant | p50 ms | p99 ms |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine($"| PUBLISH (classic), release to wake | {Percentile(classicWake, 50):0.000} | {Percentile(classicWake, 99):0.000} |");
        Console.WriteLine($"| SPUBLISH (sharded), release to wake | {Percentile(shardedWake, 50):0.000} | {Percentile(shardedWake, 99):0.000} |");
        Console.WriteLine($"| SSUBSCRIBE + SUNSUBSCRIBE per wait (sharded only) | {Percentile(shardedSubscribe, 50):0.000} | {Percentile(shardedSubscribe, 99):0.000} |");
        return 0;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}

using System.Diagnostics;
using Coordination.Benchmarks.ZooKeeper;
using StackExchange.Redis;
using static Coordination.Benchmarks.Locks.BenchEnvironment;
using static Coordination.Benchmarks.Locks.LockBench;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// Where a guarantee and a round trip conflict, both options measured by hand in the same run (raw pipelined
/// ZooKeeper connection and StackExchange.Redis, no library code): the gate before or beside the create for a
/// try-once caller (free key and held key), the gate or none for a waiting caller, and the read behind the create in
/// one write or after its reply.
/// </summary>
internal static class TradeOffs
{
    private const string ReleaseScript = "local v = redis.call('GET', KEYS[1]) if v and string.sub(v, 1, 32) == ARGV[1] then redis.call('DEL', KEYS[1]) end redis.call('PUBLISH', ARGV[2], ARGV[3]) return 1";

    private sealed record Variant(string Name, bool Chosen, string RedisOnPath, Func<Task<int>> Run);

    public static async Task RunAsync(BenchResults results, string redis, string zkServer, int n)
    {
        var prefix = LockImplementations.NewPrefix();
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis);
        var db = mux.GetDatabase();
        await using var zk = await RawPipelinedZk.ConnectAsync(zkServer.Split('/')[0].Split(',')[0]);
        await using var holderZk = await RawPipelinedZk.ConnectAsync(zkServer.Split('/')[0].Split(',')[0]);
        var root = "/" + prefix.TrimEnd(':') + "-tradeoffs";
        await zk.EnsureAsync(root);
        var free = root + "/free";
        var held = root + "/held";
        await zk.EnsureAsync(free);
        await zk.EnsureAsync(held);
        RedisKey freeRecord = prefix + "{free}:lock";
        RedisKey heldRecord = prefix + "{held}:lock";
        var channel = prefix + "released";
        var holder = Guid.NewGuid().ToString("N");
        await holderZk.EnterAsync(held + "/" + holder + "-", held);
        await db.StringSetAsync(heldRecord, holder + ":{}", TimeSpan.FromMinutes(5));

        async Task<int> EnterFreeThenLeaveAsync(string owner, bool pipelined)
        {
            string node;
            if (pipelined)
            {
                node = await zk.EnterAsync(free + "/" + owner + "-", free);
            }
            else
            {
                node = await zk.CreateAsync(free + "/" + owner + "-");
                await zk.GetChildrenAsync(free);
            }

            _ = db.StringSetAsync(freeRecord, owner + ":{\"token\":1}", TimeSpan.FromSeconds(30), When.Always, CommandFlags.FireAndForget);
            await zk.DeleteAsync(node);
            _ = db.ScriptEvaluateAsync(ReleaseScript, [freeRecord], [owner, channel, "free"], CommandFlags.FireAndForget);
            return 2;
        }

        // The gate's SET NX sent with the create, its reply awaited once the create is answered (a try-once caller needs
        // it; a waiting caller would ignore it: the same work either way).
        async Task<int> GateBesideTheCreateAsync()
        {
            var owner = Guid.NewGuid().ToString("N");
            var gate = db.StringSetAsync(freeRecord, owner + ":{}", TimeSpan.FromSeconds(30), When.NotExists);
            var node = await zk.EnterAsync(free + "/" + owner + "-", free);
            await gate;
            _ = db.StringSetAsync(freeRecord, owner + ":{\"token\":1}", TimeSpan.FromSeconds(30), When.Always, CommandFlags.FireAndForget);
            await zk.DeleteAsync(node);
            _ = db.ScriptEvaluateAsync(ReleaseScript, [freeRecord], [owner, channel, "free"], CommandFlags.FireAndForget);
            return 2;
        }

        Variant[] variants =
        [
            new("try once, free key: gate, then create + getChildren", true, "1 (the gate)", async () =>
            {
                var owner = Guid.NewGuid().ToString("N");
                if (!await db.StringSetAsync(freeRecord, owner + ":{}", TimeSpan.FromSeconds(30), When.NotExists))
                {
                    throw new InvalidOperationException("the free key's gate was taken");
                }

                return await EnterFreeThenLeaveAsync(owner, pipelined: true);
            }),
            new("try once, free key: gate beside the create", false, "0 (overlapped)", GateBesideTheCreateAsync),
            new("try once, held key: gate first (refused by Redis)", true, "1 (the gate)", async () =>
            {
                var owner = Guid.NewGuid().ToString("N");
                return await db.StringSetAsync(heldRecord, owner + ":{}", TimeSpan.FromSeconds(30), When.NotExists)
                    ? throw new InvalidOperationException("the held key's gate was free")
                    : 0;
            }),
            new("try once, held key: gate beside the create (refused by ZooKeeper)", false, "0 (overlapped)", async () =>
            {
                var owner = Guid.NewGuid().ToString("N");
                var gate = db.StringSetAsync(heldRecord, owner + ":{}", TimeSpan.FromSeconds(30), When.NotExists);
                var node = await zk.EnterAsync(held + "/" + owner + "-", held);
                await gate;
                _ = zk.DeleteAsync(node); // not first: leave in the background, as the engine's janitor does
                return 2;
            }),
            new("waiting caller, free key: no gate, create + getChildren in one write", true, "0", () => EnterFreeThenLeaveAsync(Guid.NewGuid().ToString("N"), pipelined: true)),
            new("waiting caller, free key: gate beside the create", false, "0 (overlapped)", GateBesideTheCreateAsync),
            new("waiting caller, free key: getChildren after the create's reply (previous protocol)", false, "0", () => EnterFreeThenLeaveAsync(Guid.NewGuid().ToString("N"), pipelined: false)),
        ];

        var samples = variants.ToDictionary(v => v.Name, _ => new List<double>(n));
        var writes = variants.ToDictionary(v => v.Name, _ => 0);
        foreach (var v in variants)
        {
            for (var i = 0; i < 100; i++)
            {
                await v.Run();
            }
        }

        for (var done = 0; done < n; done += 100)
        {
            foreach (var v in variants)
            {
                for (var i = 0; i < 100; i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    writes[v.Name] = await v.Run();
                    samples[v.Name].Add(Ms(Stopwatch.GetTimestamp() - t0));
                }
            }
        }

        var table = new BenchTable
        {
            Id = "tradeoffs",
            Title = "Trade-offs measured by hand (raw pipelined ZooKeeper connection + StackExchange.Redis, no library code)",
            Header = ["variant", "chosen", "p50 ms", "p99 ms", "ZooKeeper writes", "Redis round trips on the path"],
            Note = $"{n} runs each, interleaved in rounds of 100; each run ends when the caller would have its answer (and, for a granted lock, has released it).",
        };
        foreach (var v in variants)
        {
            var s = samples[v.Name];
            s.Sort();
            table.Rows.Add([v.Name, v.Chosen ? "yes" : "no", F3(Percentile(s, 50)), F3(Percentile(s, 99)), writes[v.Name].ToString(Inv), v.RedisOnPath]);
        }

        results.Add(table);
        await db.KeyDeleteAsync(heldRecord);
    }
}

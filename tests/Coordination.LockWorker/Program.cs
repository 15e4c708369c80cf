// A separate OS process for the lock tests. Usage:
//   hammer <mode> <redis> <zk> <prefix> <root> <key> <tasks> <iterations> [<counter-redis>]
//     each task: acquire, unguarded read-modify-write of <prefix>counter (GET, yield, SET) inside a nested acquire of
//     the same key (re-entrant: granted at once with the same token, else a violation), check the fencing token is
//     above the last one recorded in <prefix>last-token, release. Prints "DONE <violations>".
//     The counter and last token live on <counter-redis> when given (e.g. plain Redis while the locks use a
//     Sentinel group that fails over), else on <redis>.
//   semhammer <mode> <redis> <zk> <prefix> <root> <key> <tasks> <iterations> <maxCount>
//     each task: take a permit of the semaphore, INCR <prefix>inside and raise <prefix>max to it (one Lua call),
//     hold a few ms, DECR, release; SADD the fencing token to <prefix>tokens (a token granted twice is a violation).
//   hold <mode> <redis> <zk> <prefix> <root> <key> <sessionTimeoutMs>
//     acquires, prints "ACQUIRED <token>", then prints "LOST <ms after acquire>" when LostToken fires.
//   elect <redis> <zk> <prefix> <root> <election> <sessionTimeoutMs> <instanceId>
//     stands in the election; prints "JOINED <ts>" once its node is in the queue, "ELECTED <token> <ts>" when it
//     leads, "ENDED <token> <ts>" when the leadership token fires (<ts>: Stopwatch timestamp, CLOCK_MONOTONIC, so
//     comparable across processes on one machine). Reads commands on stdin: "stop" stops gracefully and prints
//     "STOPPED <ts>", "leader" prints "LEADER <instanceId> <token>" (or "LEADER none").
using System.Diagnostics;
using Coordination;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

var verb = args[0];
var mode = verb == "elect" ? LockMode.Hybrid : Enum.Parse<LockMode>(args[1]);
var redisCs = args[2];
var zkCs = args[3];
var prefix = args[4];
var root = args[5];
var key = args[6];

if (verb == "elect")
{
    return await Coordination.LockWorker.ElectionWorker.RunAsync(args);
}

var services = new ServiceCollection();
services.AddHybridCoordination(o =>
{
    o.Mode = mode;
    o.Redis = redisCs;
    o.ZooKeeper = zkCs;
    o.RedisPrefix = prefix;
    o.ZooKeeperRoot = root;
    o.ConnectTimeout = TimeSpan.FromSeconds(15); // cold child processes on a loaded 2-core CI machine
    if (verb == "hold")
    {
        o.SessionTimeout = TimeSpan.FromMilliseconds(int.Parse(args[7], System.Globalization.CultureInfo.InvariantCulture));
    }
});
await using var sp = services.BuildServiceProvider();
var locks = sp.GetRequiredService<IDistributedLockProvider>();

if (verb == "hold")
{
    var handle = await locks.AcquireAsync(key, TimeSpan.FromSeconds(30));
    var sw = Stopwatch.StartNew();
    Console.WriteLine($"ACQUIRED {handle.FencingToken}");
    var lost = new TaskCompletionSource();
    handle.LostToken.Register(() => lost.TrySetResult());
    await lost.Task;
    Console.WriteLine($"LOST {sw.ElapsedMilliseconds}");
    await handle.DisposeAsync();
    return 0;
}

var tasks = int.Parse(args[7], System.Globalization.CultureInfo.InvariantCulture);
var iterations = int.Parse(args[8], System.Globalization.CultureInfo.InvariantCulture);
using var mux = await ConnectionMultiplexer.ConnectAsync(verb == "hammer" && args.Length > 9 ? args[9] : redisCs);
var db = mux.GetDatabase();
var violations = 0;
if (verb == "semhammer")
{
    var maxCount = int.Parse(args[9], System.Globalization.CultureInfo.InvariantCulture);
    var semaphores = sp.GetRequiredService<IDistributedSemaphoreProvider>();
    var enter = LuaScript.Prepare("local n = redis.call('INCR', @inside) if n > tonumber(redis.call('GET', @max) or '0') then redis.call('SET', @max, n) end return n");
    await Task.WhenAll(Enumerable.Range(0, tasks).Select(async _ =>
    {
        for (var i = 0; i < iterations; i++)
        {
            await using var h = await semaphores.AcquireAsync(key, maxCount, TimeSpan.FromSeconds(60));
            await enter.EvaluateAsync(db, new { inside = (RedisKey)(prefix + "inside"), max = (RedisKey)(prefix + "max") });
            await Task.Delay(5);
            await db.StringDecrementAsync(prefix + "inside");
            if (!await db.SetAddAsync(prefix + "tokens", h.FencingToken))
            {
                Interlocked.Increment(ref violations);
            }
        }
    }));
    Console.WriteLine($"DONE {violations}");
    return 0;
}

await Task.WhenAll(Enumerable.Range(0, tasks).Select(async _ =>
{
    for (var i = 0; i < iterations; i++)
    {
        await using var h = await locks.AcquireAsync(key, TimeSpan.FromSeconds(60));
        var last = (long?)await db.StringGetAsync(prefix + "last-token") ?? 0;
        if (h.FencingToken <= last)
        {
            Interlocked.Increment(ref violations);
        }

        await db.StringSetAsync(prefix + "last-token", h.FencingToken);
        await using (var nested = await locks.AcquireAsync(key, TimeSpan.FromSeconds(60)))
        {
            if (nested.FencingToken != h.FencingToken)
            {
                Interlocked.Increment(ref violations);
            }

            var v = (long?)await db.StringGetAsync(prefix + "counter") ?? 0;
            await Task.Yield();
            await db.StringSetAsync(prefix + "counter", v + 1);
        }
    }
}));
Console.WriteLine($"DONE {violations}");
return 0;

using System.Diagnostics;
using System.Globalization;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.Nemesis;

/// <summary>
/// One worker process: <c>tasks</c> loops of acquire → critical section → release on one key, logging every step
/// (see <see cref="LogAnalyser"/> for how the log is judged). Inside the critical section it does an unfenced
/// read-modify-write on the victim Redis (the one the nemesis faults) and a fenced increment on the referee Redis
/// (never faulted). It stops when the control directory holds a <c>stop</c> file.
/// </summary>
internal sealed class NemesisWorker
{
    // Accepts the increment only with a token at least as large as the last accepted one: the storage side of fencing.
    private const string FencedIncrement = """
        local last = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tonumber(ARGV[1]) >= last then
          redis.call('SET', KEYS[1], ARGV[1])
          redis.call('INCR', KEYS[2])
          return 1
        end
        return 0
        """;

    private readonly string _id;
    private readonly string _key;
    private readonly string _prefix;
    private readonly string _controlDir;
    private readonly TimeSpan _acquireTimeout;
    private readonly TimeSpan _pauseHold;
    private readonly EventLog _log;
    private long _fencedSeq;

    private NemesisWorker(NemesisArgs args, EventLog log)
    {
        _id = args.Required("id");
        _key = args.Optional("key", "nemesis");
        _prefix = args.Required("prefix");
        _controlDir = args.Required("control");
        _acquireTimeout = TimeSpan.FromMilliseconds(args.Int("acquire-timeout-ms", 10_000));
        _pauseHold = TimeSpan.FromMilliseconds(args.Int("pause-hold-ms", 3_000));
        _log = log;
    }

    public static async Task<int> RunAsync(NemesisArgs args)
    {
        using var log = new EventLog(args.Required("log"));
        var worker = new NemesisWorker(args, log);
        var services = new ServiceCollection();
        services.AddHybridCoordination(o =>
        {
            o.Mode = LockMode.Hybrid;
            o.Redis = args.Required("redis");
            o.ZooKeeper = args.Required("zk");
            o.RedisPrefix = worker._prefix;
            o.ZooKeeperRoot = args.Required("root");
            o.SessionTimeout = TimeSpan.FromMilliseconds(args.Int("session-ms", 4_000));
            o.ConnectTimeout = TimeSpan.FromSeconds(15); // a cold process on a loaded 2-core machine
        });
        await using var sp = services.BuildServiceProvider();
        var locks = sp.GetRequiredService<IDistributedLockProvider>();
        await using var victim = await ConnectAsync(args.Required("redis"));
        await using var referee = await ConnectAsync(args.Required("referee"));

        using var stop = new CancellationTokenSource();
        log.Write(worker._id, "start", ("pid", Environment.ProcessId), ("freq", Stopwatch.Frequency));
        var watcher = worker.WatchForStopAsync(stop);
        var tasks = Enumerable.Range(0, args.Int("tasks", 2))
            .Select(i => Task.Run(() => worker.LoopAsync($"{worker._id}.{i}", locks, victim.GetDatabase(), referee.GetDatabase(), stop.Token)))
            .ToArray();
        await Task.WhenAll(tasks);
        await stop.CancelAsync();
        await watcher;
        log.Write(worker._id, "exit");
        return 0;
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        // The victim goes away on purpose; short timeouts keep a critical section short while it is down.
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 1000;
        options.SyncTimeout = 1000;
        options.AsyncTimeout = 1000;
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    private async Task WatchForStopAsync(CancellationTokenSource stop)
    {
        var file = Path.Combine(_controlDir, "stop");
        while (!stop.IsCancellationRequested && !File.Exists(file))
        {
            try
            {
                await Task.Delay(100, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        await stop.CancelAsync();
    }

    private async Task LoopAsync(string task, IDistributedLockProvider locks, IDatabase victim, IDatabase referee, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            _log.Write(task, "acquire-start");
            var clock = Stopwatch.StartNew();
            IDistributedLockHandle handle;
            try
            {
                handle = await locks.AcquireAsync(_key, _acquireTimeout, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log.Write(task, "acquire-failed", ("error", ex.GetType().Name), ("ms", clock.ElapsedMilliseconds));
                await Task.Delay(50, CancellationToken.None);
                continue;
            }

            var token = handle.FencingToken;
            _log.Write(task, "granted", ("token", token), ("ms", clock.ElapsedMilliseconds));
            // The timestamp is taken when the token fires; a paused process writes the line once it runs again.
            using var lost = handle.LostToken.UnsafeRegister(_ => _log.Write(EventLog.Now(), task, "lost", ("token", token)), null);
            try
            {
                await CriticalSectionAsync(task, token, victim, referee);
            }
            finally
            {
                _log.Write(task, "release-start", ("token", token));
                clock.Restart();
                try
                {
                    await handle.DisposeAsync();
                    _log.Write(task, "released", ("token", token), ("ms", clock.ElapsedMilliseconds));
                }
                catch (Exception ex)
                {
                    _log.Write(task, "release-failed", ("token", token), ("error", ex.GetType().Name), ("ms", clock.ElapsedMilliseconds));
                }
            }
        }
    }

    private async Task CriticalSectionAsync(string task, long token, IDatabase victim, IDatabase referee)
    {
        if (TryClaimPause(task))
        {
            // The orchestrator freezes this process (SIGSTOP) while it sits here holding the lock.
            _log.Write(task, "pause-claimed", ("token", token));
            await Task.Delay(_pauseHold, CancellationToken.None);
        }

        var t0 = EventLog.Now();
        try
        {
            var read = (long?)await victim.StringGetAsync(_prefix + "unfenced") ?? 0;
            await Task.Delay(1, CancellationToken.None);
            await victim.StringSetAsync(_prefix + "unfenced", read + 1);
            _log.Write(task, "rmw", ("token", token), ("t0", t0), ("read", read));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _log.Write(task, "rmw-failed", ("token", token), ("error", ex.GetType().Name));
        }

        var seq = Interlocked.Increment(ref _fencedSeq);
        _log.Write(task, "fenced-start", ("token", token), ("seq", seq));
        try
        {
            var accepted = (long)await referee.ScriptEvaluateAsync(
                FencedIncrement,
                [(RedisKey)(_prefix + "fence:last"), (RedisKey)(_prefix + "fence:count")],
                [token]);
            _log.Write(task, "fenced", ("token", token), ("seq", seq), ("result", accepted == 1 ? "accepted" : "rejected"));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The script may still have run; the analyser counts this as unresolved, not as accepted or rejected.
            _log.Write(task, "fenced", ("token", token), ("seq", seq), ("result", "error"), ("error", ex.GetType().Name));
        }

        await Task.Delay(Random.Shared.Next(1, 5), CancellationToken.None);
    }

    private bool TryClaimPause(string task)
    {
        var request = Path.Combine(_controlDir, "pause-request");
        if (!File.Exists(request))
        {
            return false;
        }

        try
        {
            // A rename succeeds for exactly one claimant.
            File.Move(request, Path.Combine(_controlDir, string.Create(CultureInfo.InvariantCulture, $"pause-claimed.{_id}.{task}")));
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using Coordination.Elections;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Coordination.Nemesis;

/// <summary>
/// One worker process with one coordination session shared by every primitive it exercises, as an application has:
/// per primitive, <c>tasks</c> loops of acquire → critical section → release on that primitive's key (the lock; a
/// semaphore of <c>permits</c>; a reader-writer lock, each iteration a write one time in three, else a read), and
/// one candidate in an election that leads for a few critical sections, then resigns. Every step is logged (see
/// <see cref="LogAnalyser"/> for how the log is judged). Inside the critical section it does an unfenced
/// read-modify-write on the victim Redis (the one the nemesis faults; not for reads and permits, which share) and a
/// fenced increment on the referee Redis (never faulted), both on the primitive's own keys. An exclusive holder of the
/// lock or of the write lock first takes the same key again (the lock; the read lock under the write lock): locks are
/// re-entrant per flow, so it must get a nested handle at once with the same token, does the read-modify-write under
/// it, and disposes it before the fenced increment, which must still run under the outer hold. It stops when the
/// control directory holds a <c>stop</c> file.
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
    private readonly int _permits;
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
        _permits = args.Int("permits", 2);
        _log = log;
    }

    public static async Task<int> RunAsync(NemesisArgs args)
    {
        using var log = new EventLog(args.Required("log"));
        var worker = new NemesisWorker(args, log);
        var primitives = NemesisPrimitive.Parse(args.Optional("primitives", NemesisPrimitive.Lock));
        var services = new ServiceCollection();
        var coordination = services.AddHybridCoordination(o =>
        {
            o.Mode = LockMode.Hybrid;
            o.Redis = args.Required("redis");
            o.ZooKeeper = args.Required("zk");
            o.RedisPrefix = worker._prefix;
            o.ZooKeeperRoot = args.Required("root");
            o.SessionTimeout = TimeSpan.FromMilliseconds(args.Int("session-ms", 4_000));
            o.ConnectTimeout = TimeSpan.FromSeconds(15); // a cold process on a loaded 2-core machine
        });
        if (primitives.Contains(NemesisPrimitive.Election))
        {
            coordination.AddLeaderElection(worker._key, o => o.InstanceId = worker._id);
        }

        await using var sp = services.BuildServiceProvider();
        await using var victim = await ConnectAsync(args.Required("redis"));
        await using var referee = await ConnectAsync(args.Required("referee"));

        using var stop = new CancellationTokenSource();
        log.Write(worker._id, "start", ("pid", Environment.ProcessId), ("freq", Stopwatch.Frequency), ("primitives", string.Join(',', primitives)));
        var hosted = sp.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        var watcher = worker.WatchForStopAsync(stop);
        var loops = new List<Task>();
        var tasks = args.Int("tasks", 2);
        foreach (var primitive in primitives)
        {
            Func<ValueTask<IDistributedLockHandle>>? nested = primitive switch
            {
                NemesisPrimitive.Lock => worker.Nested(sp.GetRequiredService<IDistributedLockProvider>()),
                NemesisPrimitive.ReaderWriter => worker.Nested(sp.GetRequiredService<IDistributedReaderWriterLockProvider>()),
                _ => null,
            };
            var section = new Section(primitive, victim.GetDatabase(), referee.GetDatabase(), nested);
            Acquisition acquire = primitive switch
            {
                NemesisPrimitive.Lock => worker.Acquire(sp.GetRequiredService<IDistributedLockProvider>()),
                NemesisPrimitive.Semaphore => worker.Acquire(sp.GetRequiredService<IDistributedSemaphoreProvider>()),
                NemesisPrimitive.ReaderWriter => worker.Acquire(sp.GetRequiredService<IDistributedReaderWriterLockProvider>()),
                _ => Acquire(sp.GetRequiredKeyedService<ILeaderElection>(worker._key)),
            };
            // One candidate per process: leadership belongs to the instance, not to a task.
            var count = primitive == NemesisPrimitive.Election ? 1 : tasks;
            loops.AddRange(Enumerable.Range(0, count).Select(i => Task.Run(() => worker.LoopAsync($"{worker._id}.{primitive}.{i}", acquire, section, stop.Token))));
        }

        await Task.WhenAll(loops);
        await stop.CancelAsync();
        await watcher;
        foreach (var service in Enumerable.Reverse(hosted))
        {
            await service.StopAsync(CancellationToken.None);
        }

        log.Write(worker._id, "exit");
        return 0;
    }

    /// <summary>
    /// Where a primitive's critical section writes (its own victim counter and fence), and, for the lock and the
    /// reader-writer lock, the nested acquire an exclusive holder makes (null: none).
    /// </summary>
    private sealed record Section(string Primitive, IDatabase Victim, IDatabase Referee, Func<ValueTask<IDistributedLockHandle>>? Nested);

    /// <summary>
    /// Starts an acquisition: the hold mode and the pending handle. Not an async delegate: the provider must be called
    /// in the loop's own flow, or the loop would not hold the lock re-entrantly (an async helper's flow ends with it).
    /// </summary>
    private delegate (string Mode, ValueTask<IDistributedLockHandle> Handle) Acquisition(CancellationToken ct);

    private Acquisition Acquire(IDistributedLockProvider locks) =>
        ct => ("x", locks.AcquireAsync(_key, _acquireTimeout, ct));

    private Acquisition Acquire(IDistributedSemaphoreProvider semaphores) =>
        ct => ("s", semaphores.AcquireAsync(_key, _permits, _acquireTimeout, ct));

    private Acquisition Acquire(IDistributedReaderWriterLockProvider rw) =>
        ct => Random.Shared.Next(3) == 0
            ? ("w", rw.AcquireWriteAsync(_key, _acquireTimeout, ct))
            : ("r", rw.AcquireReadAsync(_key, _acquireTimeout, ct));

    private Func<ValueTask<IDistributedLockHandle>> Nested(IDistributedLockProvider locks) =>
        () => locks.AcquireAsync(_key, _acquireTimeout);

    /// <summary>A write holder takes the read lock of its own key (write → read nests).</summary>
    private Func<ValueTask<IDistributedLockHandle>> Nested(IDistributedReaderWriterLockProvider rw) =>
        () => rw.AcquireReadAsync(_key, _acquireTimeout);

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

    private async Task LoopAsync(string task, Acquisition acquire, Section section, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            _log.Write(task, "acquire-start");
            var clock = Stopwatch.StartNew();
            string mode;
            IDistributedLockHandle handle;
            try
            {
                (mode, var pending) = acquire(stop);
                handle = await pending;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The expected failure (fail closed during an outage) is counted by type; anything else says why.
                _log.Write(task, "acquire-failed", ("error", ex.GetType().Name), ("ms", clock.ElapsedMilliseconds), ("why", ex is LockUnavailableException ? "" : ex.Message));
                await Task.Delay(50, CancellationToken.None);
                continue;
            }

            var token = handle.FencingToken;
            _log.Write(task, "granted", ("token", token), ("ms", clock.ElapsedMilliseconds), ("mode", mode), ("max", mode == "s" ? _permits : 1));
            // The timestamp is taken when the token fires; a paused process writes the line once it runs again.
            using var lost = handle.LostToken.UnsafeRegister(_ => _log.Write(EventLog.Now(), task, "lost", ("token", token)), null);
            try
            {
                for (var n = handle is Term t ? t.Sections : 1; n > 0 && !handle.LostToken.IsCancellationRequested; n--)
                {
                    await CriticalSectionAsync(task, token, mode, section);
                }
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

    /// <summary>
    /// Standing in the election as an acquire: elected = granted, a term of one to five critical sections, then
    /// <see cref="ILeaderElection.ResignAsync"/> as the release, so leadership keeps moving; a term that ends on its
    /// own fires the lost token.
    /// </summary>
    private static Acquisition Acquire(ILeaderElection election) => ct => ("x", WaitForTermAsync(election, ct));

    private static async ValueTask<IDistributedLockHandle> WaitForTermAsync(ILeaderElection election, CancellationToken ct)
    {
        while (true)
        {
            var term = await election.WaitForLeadershipAsync(ct);
            var token = election.FencingToken;
            if (!term.IsCancellationRequested && token != 0)
            {
                return new Term(election, token, term);
            }

            // The term ended before this task could act on it: nothing was held; wait for the next one.
        }
    }

    private sealed class Term(ILeaderElection election, long token, CancellationToken lost) : IDistributedLockHandle
    {
        public string Key => election.Name;

        public long FencingToken => token;

        public CancellationToken LostToken => lost;

        public DateTimeOffset AcquiredAt { get; } = DateTimeOffset.UtcNow;

        public LockMode Mode => LockMode.ZooKeeperOnly;

        public int Sections { get; } = Random.Shared.Next(1, 6);

        public ValueTask DisposeAsync() => new(election.ResignAsync(CancellationToken.None));
    }

    private async Task CriticalSectionAsync(string task, long token, string mode, Section section)
    {
        if (TryClaimPause(task))
        {
            // The orchestrator freezes this process (SIGSTOP) while it sits here holding the lock.
            _log.Write(task, "pause-claimed", ("token", token));
            await Task.Delay(_pauseHold, CancellationToken.None);
        }

        var prefix = $"{_prefix}{section.Primitive}:";
        if (mode is "x" or "w")
        {
            // Only exclusive holders: readers and permit holders legitimately overlap, so their writes would race.
            var nested = section.Nested is { } enter ? await EnterNestedAsync(task, token, enter()) : null;
            var t0 = EventLog.Now();
            try
            {
                var read = (long?)await section.Victim.StringGetAsync(prefix + "unfenced") ?? 0;
                await Task.Delay(1, CancellationToken.None);
                await section.Victim.StringSetAsync(prefix + "unfenced", read + 1);
                _log.Write(task, "rmw", ("token", token), ("t0", t0), ("read", read));
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                _log.Write(task, "rmw-failed", ("token", token), ("error", ex.GetType().Name));
            }
            finally
            {
                if (nested is not null)
                {
                    await nested.DisposeAsync(); // gives back the nested count only: the fenced write below still holds
                }
            }
        }

        var seq = Interlocked.Increment(ref _fencedSeq);
        _log.Write(task, "fenced-start", ("token", token), ("seq", seq));
        try
        {
            var accepted = (long)await section.Referee.ScriptEvaluateAsync(
                FencedIncrement,
                [(RedisKey)(prefix + "fence:last"), (RedisKey)(prefix + "fence:count")],
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

    /// <summary>
    /// Awaits a nested acquire of the held key and logs it: <c>nested</c> with its token and whether it was granted at
    /// once (the analyser counts a nested grant that waited or got another token as a violation), or <c>nested-failed</c>.
    /// </summary>
    private async Task<IDistributedLockHandle?> EnterNestedAsync(string task, long token, ValueTask<IDistributedLockHandle> pending)
    {
        var atOnce = pending.IsCompleted;
        try
        {
            var nested = await pending;
            _log.Write(task, "nested", ("token", token), ("nested", nested.FencingToken), ("at-once", atOnce ? 1 : 0));
            return nested;
        }
        catch (Exception ex)
        {
            _log.Write(task, "nested-failed", ("token", token), ("error", ex.GetType().Name), ("why", ex.Message));
            return null;
        }
    }

    private bool TryClaimPause(string task)
    {
        // The orchestrator names the primitive whose holder it wants frozen this time (it rotates).
        var request = Path.Combine(_controlDir, "pause-request." + NemesisPrimitive.Of(task));
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

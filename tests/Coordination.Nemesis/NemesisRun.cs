using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Coordination.Testing;
using StackExchange.Redis;

namespace Coordination.Nemesis;

/// <summary>
/// The orchestrator: starts a referee Redis and the workers, applies the profile's faults one after another (each
/// followed by a wait of up to the wedge bound for the next grant), stops everything, reads the referee counter and
/// hands the logs to <see cref="LogAnalyser"/>. Its own lines go to <c>nemesis.log</c> beside the workers' logs.
/// </summary>
internal sealed class NemesisRun : IAsyncDisposable
{
    private readonly NemesisArgs _args;
    private readonly NemesisProfile _profile;
    private readonly string _out;
    private readonly string _control;
    private readonly TestServers _servers;
    private readonly ServerFaults _faults;
    private readonly TimeSpan _session;
    private readonly TimeSpan _wedgeBound;
    private readonly string _prefix;
    private readonly string _root;
    private readonly int _refereePort;
    private readonly IReadOnlyList<string> _primitives;
    private readonly EventLog _log;
    private readonly LiveLogs _live;
    private readonly Dictionary<string, Process> _workers = new(StringComparer.Ordinal);
    private Process? _referee;
    private int _nextWorker;
    private int _faultId;
    private int _quorumRound;
    private int _pauseRound;
    private int _killRound;

    private NemesisRun(NemesisArgs args)
    {
        _args = args;
        _profile = NemesisProfile.Named(args.Optional("profile", "short"));
        _out = Path.GetFullPath(args.Required("out"));
        _control = Path.Combine(_out, "control");
        Directory.CreateDirectory(_control);
        _servers = TestServers.Current;
        _faults = new ServerFaults(_servers);
        _session = TimeSpan.FromMilliseconds(args.Int("session-ms", 4_000));
        _wedgeBound = TimeSpan.FromSeconds(args.Int("wedge-bound-s", 15));
        _refereePort = args.Int("referee-port", 6399);
        _primitives = NemesisPrimitive.Parse(args.Optional("primitives", string.Join(',', NemesisPrimitive.All)));
        var runId = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        _prefix = $"nemesis-{runId}:";
        _root = $"/nemesis-{runId}";
        _log = new EventLog(Path.Combine(_out, "nemesis.log"));
        _live = new LiveLogs(_out);
    }

    public static async Task<int> RunAsync(NemesisArgs args)
    {
        await using var run = new NemesisRun(args);
        return await run.ExecuteAsync();
    }

    private async Task<int> ExecuteAsync()
    {
        Console.WriteLine($"nemesis: profile {_profile.Name}, primitives {string.Join(',', _primitives)}, logs in {_out}");
        _log.Write(NemesisEvent.Orchestrator, "run-start", ("profile", _profile.Name), ("freq", Stopwatch.Frequency));
        await _faults.EnsureAllRunningAsync();
        await StartRefereeAsync();
        var workers = _args.Int("workers", 3);
        for (var i = 0; i < workers; i++)
        {
            StartWorker();
        }

        var warmup = EventLog.Now();
        if (!await WaitForGrantAfterAsync(warmup, TimeSpan.FromSeconds(60)))
        {
            Console.Error.WriteLine("nemesis: not every primitive was granted within 60 s of starting; see the logs.");
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (var kind in _profile.Schedule)
            {
                if (clock.Elapsed > _profile.Budget)
                {
                    _log.Write(NemesisEvent.Orchestrator, "fault-skipped", ("fault", kind), ("reason", "budget"));
                    Console.WriteLine($"nemesis: skipped {kind}: the profile's {_profile.Budget.TotalSeconds:0} s budget is spent");
                    continue;
                }

                await ApplyAsync(kind);
            }
        }
        finally
        {
            // Whatever happened, leave the servers as they were found.
            await _faults.EnsureAllRunningAsync();
            await StopWorkersAsync();
            await RecordRefereeAsync();
            _log.Write(NemesisEvent.Orchestrator, "run-end");
        }

        var reports = LogAnalyser.AnalyseDirectory(_out, _wedgeBound, TimeSpan.FromMilliseconds(_args.Int("resume-bound-ms", (int)LogAnalyser.DefaultResumeBound.TotalMilliseconds)));
        var text = AnalysisReport.Print(reports, _profile.Name);
        await File.WriteAllTextAsync(Path.Combine(_out, "report.txt"), text);
        Console.Write(text);
        var missing = _primitives.Except(reports.Select(r => r.Primitive)).ToList();
        if (missing.Count > 0)
        {
            Console.WriteLine($"nemesis: no lines at all for {string.Join(", ", missing)} FAIL");
        }

        return missing.Count == 0 && reports.All(r => r.Passed) ? 0 : 1;
    }

    private async Task ApplyAsync(string kind)
    {
        var id = ++_faultId;
        var start = EventLog.Now();
        _log.Write(start, NemesisEvent.Orchestrator, "fault-start", ("fault", kind), ("id", id));
        Console.WriteLine($"nemesis: fault #{id} {kind}");
        var applied = kind switch
        {
            NemesisProfile.QuorumLoss => await QuorumLossAsync(),
            NemesisProfile.PauseHolder => await PauseHolderAsync(),
            NemesisProfile.LeaderStop => await LeaderStopAsync(),
            NemesisProfile.RedisFlush => await Done(_faults.FlushRedisAsync()),
            NemesisProfile.RedisRestart => await RedisRestartAsync(),
            NemesisProfile.KillWorker => KillWorker(),
            _ => throw new InvalidOperationException($"Unknown fault '{kind}'."),
        };
        if (applied is not null)
        {
            _log.Write(NemesisEvent.Orchestrator, "fault-skipped", ("fault", kind), ("id", id), ("reason", applied));
            Console.WriteLine($"nemesis: fault #{id} {kind} not applied: {applied}");
            return;
        }

        var end = EventLog.Now();
        _log.Write(end, NemesisEvent.Orchestrator, "fault-end", ("fault", kind), ("id", id));
        if (!await WaitForGrantAfterAsync(end, _wedgeBound))
        {
            Console.WriteLine($"nemesis: fault #{id} {kind}: no grant within {_wedgeBound.TotalSeconds:0} s of its end (wedged key)");
        }

        await Task.Delay(_profile.Settle);

        static async Task<string?> Done(Task task)
        {
            await task;
            return null;
        }
    }

    private async Task<string?> QuorumLossAsync()
    {
        // Rotate the pair so every member is the survivor in turn (the leader is among the stopped ones two times in three).
        var round = _quorumRound++ % 3;
        int a = round + 1, b = ((round + 1) % 3) + 1;
        await Task.WhenAll(_faults.StopEnsembleMemberAsync(a), _faults.StopEnsembleMemberAsync(b));
        await Task.Delay(_profile.QuorumDown);
        await Task.WhenAll(_faults.StartEnsembleMemberAsync(a), _faults.StartEnsembleMemberAsync(b));
        await _faults.WaitForEnsembleAsync();
        return null;
    }

    private async Task<string?> LeaderStopAsync()
    {
        if (await _faults.FindEnsembleLeaderAsync() is not { } leader)
        {
            return "no member reports itself leader";
        }

        await _faults.StopEnsembleMemberAsync(leader);
        await Task.Delay(_profile.LeaderDown);
        await _faults.StartEnsembleMemberAsync(leader);
        await _faults.WaitForEnsembleAsync();
        return null;
    }

    private async Task<string?> RedisRestartAsync()
    {
        await _faults.StopRedisAsync();
        await Task.Delay(_profile.RedisDown);
        await _faults.StartRedisAsync();
        return null;
    }

    private async Task<string?> PauseHolderAsync()
    {
        // Each pause freezes a holder of the next primitive in turn (the whole process stops, with whatever else it holds).
        var primitive = _primitives[_pauseRound++ % _primitives.Count];
        var request = Path.Combine(_control, "pause-request." + primitive);
        await File.WriteAllTextAsync(request, "");
        var clock = Stopwatch.StartNew();
        string? claimed = null;
        while (claimed is null && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            claimed = Directory.EnumerateFiles(_control, "pause-claimed.*").FirstOrDefault();
            if (claimed is null)
            {
                await Task.Delay(2);
            }
        }

        if (claimed is null)
        {
            File.Delete(request);
            return $"no {primitive} holder entered its critical section within 10 s";
        }

        File.Delete(claimed);
        var worker = Path.GetFileName(claimed).Split('.')[1];
        var pid = _workers[worker].Id;
        _faults.PauseProcess(pid);
        _log.Write(NemesisEvent.Orchestrator, "sigstop", ("worker", worker), ("pid", pid), ("prim", primitive));
        // Past the session timeout, so the session expires and someone else is granted while it is frozen.
        await Task.Delay(_session + TimeSpan.FromSeconds(2));
        // Stamped just before the signal (the kill system call: the process runs within microseconds), so nothing the
        // resumed process logs comes before it and a frozen holder's bound starts when it can act.
        var resuming = EventLog.Now();
        _faults.ResumeProcess(pid);
        _log.Write(resuming, NemesisEvent.Orchestrator, "sigcont", ("worker", worker), ("pid", pid));
        return null;
    }

    private string? KillWorker()
    {
        _live.Refresh();
        var alive = _workers.Where(w => !w.Value.HasExited).Select(w => w.Key).ToList();
        if (alive.Count == 0)
        {
            return "no worker is running";
        }

        // Prefer a holder, of the election first, then of the next primitive in turn: its node stays until its
        // session expires, which is the interesting case.
        var preferred = _killRound++ == 0 ? NemesisPrimitive.Election : _primitives[_killRound % _primitives.Count];
        var victim = _live.HoldingWorkers(preferred).Concat(_live.HoldingWorkers(null)).FirstOrDefault(alive.Contains)
            ?? alive[Random.Shared.Next(alive.Count)];
        var process = _workers[victim];
        _log.Write(NemesisEvent.Orchestrator, "worker-kill", ("worker", victim), ("pid", process.Id), ("reason", "fault"));
        process.Kill(); // SIGKILL on Unix
        process.WaitForExit();
        // Between the two lines the process may still log a grant (it ran until the signal landed).
        _log.Write(NemesisEvent.Orchestrator, "worker-dead", ("worker", victim), ("pid", process.Id));
        StartWorker();
        return null;
    }

    private void StartWorker()
    {
        var id = "w" + (++_nextWorker).ToString(CultureInfo.InvariantCulture);
        var self = typeof(NemesisRun).Assembly.Location;
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(self);
        }

        foreach (var arg in new[]
        {
            "worker", "--id", id, "--log", Path.Combine(_out, id + ".log"), "--control", _control,
            "--redis", _servers.Redis, "--referee", $"127.0.0.1:{_refereePort}", "--zk", _servers.ZooKeeperEnsemble,
            "--prefix", _prefix, "--root", _root, "--tasks", _args.Optional("tasks", "2"),
            "--primitives", string.Join(',', _primitives), "--permits", _args.Optional("permits", "2"),
            "--session-ms", ((int)_session.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a worker.");
        _workers[id] = process;
        _log.Write(NemesisEvent.Orchestrator, "worker-start", ("worker", id), ("pid", process.Id));
    }

    private async Task<bool> WaitForGrantAfterAsync(long timestamp, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            _live.Refresh();
            if (_primitives.All(p => _live.GrantedAfter(p, timestamp)))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    private async Task StopWorkersAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_control, "stop"), "");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var (id, process) in _workers)
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _log.Write(NemesisEvent.Orchestrator, "worker-kill", ("worker", id), ("pid", process.Id), ("reason", "did not stop within 30 s"));
                Console.WriteLine($"nemesis: worker {id} did not stop within 30 s; killed");
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
    }

    private async Task StartRefereeAsync()
    {
        // Never faulted: the fenced counter lives here. A server already on the port would not be ours.
        using (var probe = new TcpClient())
        {
            try
            {
                await probe.ConnectAsync("127.0.0.1", _refereePort);
                throw new InvalidOperationException($"Port {_refereePort} (referee Redis) is already in use; pass --referee-port.");
            }
            catch (SocketException)
            {
            }
        }

        var start = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[]
        {
            "--bind", "127.0.0.1", "--port", _refereePort.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", _out, "--logfile", Path.Combine(_out, "referee-redis.txt"),
        })
        {
            start.ArgumentList.Add(arg);
        }

        _referee = Process.Start(start) ?? throw new InvalidOperationException("Could not start redis-server for the referee.");
        await Poll.UntilAsync(
            async () =>
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_refereePort},connectRetry=0,connectTimeout=500");
                return redis.IsConnected;
            },
            TimeSpan.FromSeconds(15),
            $"the referee Redis answers on port {_refereePort}");
    }

    private async Task RecordRefereeAsync()
    {
        try
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_refereePort}");
            foreach (var primitive in _primitives)
            {
                var count = (long?)await redis.GetDatabase().StringGetAsync($"{_prefix}{primitive}:fence:count") ?? 0;
                _log.Write(NemesisEvent.Orchestrator, "referee", ("prim", primitive), ("count", count));
            }
        }
        catch (RedisException ex)
        {
            Console.Error.WriteLine($"nemesis: cannot read the referee counter: {ex.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _workers.Values)
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            process.Dispose();
        }

        if (_referee is { HasExited: false })
        {
            _referee.Kill();
            await _referee.WaitForExitAsync();
        }

        _referee?.Dispose();
        _log.Dispose();
    }
}

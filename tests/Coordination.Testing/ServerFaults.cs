using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using StackExchange.Redis;

namespace Coordination.Testing;

/// <summary>
/// Faults on the shared test servers: stop, start and flush Redis, stop and restart one ensemble member or the
/// standalone ZooKeeper, pause and resume a process. Start/stop shell out to <c>eng/servers.sh</c> with the same
/// state directory and ports the servers were started with. Tests using these belong to <see cref="ServerFaultsCollection"/>.
/// </summary>
public sealed class ServerFaults
{
    /// <summary>How long a start/stop may take before it counts as failed.</summary>
    public static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(90);

    /// <summary>How long a restarted server may take to serve again.</summary>
    public static readonly TimeSpan ServeTimeout = TimeSpan.FromSeconds(60);

    private readonly IConnectionMultiplexer? _redis;

    /// <summary>Creates the tools for <paramref name="servers"/>; <paramref name="redis"/> (admin allowed) serves <see cref="FlushRedisAsync"/>.</summary>
    public ServerFaults(TestServers servers, IConnectionMultiplexer? redis = null)
    {
        ArgumentNullException.ThrowIfNull(servers);
        Servers = servers;
        _redis = redis;
    }

    /// <summary>The servers acted on.</summary>
    public TestServers Servers { get; }

    /// <summary>Stops Redis (SIGTERM, then SIGKILL); its data is gone, as it runs without persistence.</summary>
    public Task StopRedisAsync(CancellationToken cancellationToken = default) => RunScriptAsync(cancellationToken, "stop-redis");

    /// <summary>Starts Redis (empty) and waits until it answers PING.</summary>
    public Task StartRedisAsync(CancellationToken cancellationToken = default) => RunScriptAsync(cancellationToken, "start-redis");

    /// <summary>Stops and starts Redis: every key is lost and every client connection is dropped.</summary>
    public Task RestartRedisAsync(CancellationToken cancellationToken = default) => RunScriptAsync(cancellationToken, "restart-redis");

    /// <summary>Deletes every key in every database (FLUSHALL).</summary>
    public async Task FlushRedisAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_redis is not null && ConfigurationOptions.Parse(_redis.Configuration).AllowAdmin)
        {
            await FlushAsync(_redis);
            return;
        }

        await using var admin = await RedisFixture.ConnectAsync(Servers);
        await FlushAsync(admin);
    }

    /// <summary>Stops ensemble member <paramref name="member"/> (1..3); its data stays for a rejoin.</summary>
    public Task StopEnsembleMemberAsync(int member, CancellationToken cancellationToken = default) =>
        RunScriptAsync(cancellationToken, "stop-zk", TestServers.CheckMember(member).ToString(CultureInfo.InvariantCulture));

    /// <summary>Starts ensemble member <paramref name="member"/> (1..3) and waits until it answers <c>ruok</c> and serves as leader or follower.</summary>
    public async Task StartEnsembleMemberAsync(int member, CancellationToken cancellationToken = default)
    {
        await RunScriptAsync(cancellationToken, "start-zk", TestServers.CheckMember(member).ToString(CultureInfo.InvariantCulture));
        var port = Servers.EnsemblePort(member);
        await Poll.UntilAsync(
            async () => await FourLetterWords.SendAsync("127.0.0.1", port, "ruok", cancellationToken) == "imok"
                && await FourLetterWords.GetModeAsync("127.0.0.1", port, cancellationToken) is ZooKeeperServerMode.Leader or ZooKeeperServerMode.Follower,
            ServeTimeout,
            $"ensemble member {member} (port {port}) serves as leader or follower",
            cancellationToken);
    }

    /// <summary>Stops the standalone ZooKeeper; every session on it is lost (its data is kept).</summary>
    public Task StopStandaloneZooKeeperAsync(CancellationToken cancellationToken = default) => RunScriptAsync(cancellationToken, "stop-zk", "standalone");

    /// <summary>Starts the standalone ZooKeeper and waits until it serves.</summary>
    public Task StartStandaloneZooKeeperAsync(CancellationToken cancellationToken = default) => RunScriptAsync(cancellationToken, "start-zk", "standalone");

    /// <summary>Starts whatever is not running (a no-op when all is well) and waits for one leader and two followers.</summary>
    public async Task EnsureAllRunningAsync(CancellationToken cancellationToken = default)
    {
        if (!await AllServingAsync(cancellationToken))
        {
            await RunScriptAsync(cancellationToken, "start");
        }

        await WaitForEnsembleAsync(cancellationToken);
    }

    /// <summary>Waits until the ensemble reports exactly one leader and two followers.</summary>
    public Task WaitForEnsembleAsync(CancellationToken cancellationToken = default) =>
        Poll.UntilAsync(
            async () => await CountModesAsync(cancellationToken) is (1, 2),
            ServeTimeout,
            $"the ensemble ({Servers.ZooKeeperEnsemble}) has one leader and two followers",
            cancellationToken);

    /// <summary>The mode ensemble member <paramref name="member"/> (1..3) reports.</summary>
    public Task<ZooKeeperServerMode> GetEnsembleMemberModeAsync(int member, CancellationToken cancellationToken = default) =>
        FourLetterWords.GetModeAsync("127.0.0.1", Servers.EnsemblePort(member), cancellationToken);

    /// <summary>The member (1..3) that reports itself leader, or null when none does.</summary>
    public async Task<int?> FindEnsembleLeaderAsync(CancellationToken cancellationToken = default)
    {
        for (var member = 1; member <= 3; member++)
        {
            if (await GetEnsembleMemberModeAsync(member, cancellationToken) == ZooKeeperServerMode.Leader)
            {
                return member;
            }
        }

        return null;
    }

    /// <summary>The pid of the running Redis.</summary>
    public int GetRedisPid() => ReadPid("redis");

    /// <summary>The pid of ensemble member <paramref name="member"/> (1..3).</summary>
    public int GetEnsembleMemberPid(int member) => ReadPid("zk-" + TestServers.CheckMember(member).ToString(CultureInfo.InvariantCulture));

    /// <summary>The pid of the standalone ZooKeeper.</summary>
    public int GetStandaloneZooKeeperPid() => ReadPid("zk-standalone");

    /// <summary>Freezes process <paramref name="pid"/> (SIGSTOP): its sockets stay open but nothing answers.</summary>
    public void PauseProcess(int pid)
    {
        SendSignal(pid, Posix.SigStop);
        WaitForState(pid, stopped: true);
    }

    /// <summary>Lets a paused process run again (SIGCONT).</summary>
    public void ResumeProcess(int pid)
    {
        SendSignal(pid, Posix.SigCont);
        WaitForState(pid, stopped: false);
    }

    /// <summary>Pauses <paramref name="pid"/> until the returned scope is disposed, so a failing test still resumes it.</summary>
    public IDisposable Pause(int pid)
    {
        PauseProcess(pid);
        return new PauseScope(this, pid);
    }

    private static async Task FlushAsync(IConnectionMultiplexer redis)
    {
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (!server.IsReplica)
            {
                await server.FlushAllDatabasesAsync();
            }
        }
    }

    private async Task<bool> AllServingAsync(CancellationToken cancellationToken)
    {
        if (await FourLetterWords.GetModeAsync("127.0.0.1", Servers.ZooKeeperPort, cancellationToken) != ZooKeeperServerMode.Standalone)
        {
            return false;
        }

        if (await CountModesAsync(cancellationToken) is not (1, 2))
        {
            return false;
        }

        try
        {
            await using var redis = await RedisFixture.ConnectAsync(Servers, o => o.ConnectRetry = 0);
            await redis.GetDatabase().PingAsync();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private async Task<(int Leaders, int Followers)> CountModesAsync(CancellationToken cancellationToken)
    {
        var modes = await Task.WhenAll(Servers.EnsemblePorts.Select(p => FourLetterWords.GetModeAsync("127.0.0.1", p, cancellationToken)));
        return (modes.Count(m => m == ZooKeeperServerMode.Leader), modes.Count(m => m == ZooKeeperServerMode.Follower));
    }

    private string ServersDirectory =>
        Servers.ServersDirectory
        ?? throw new InvalidOperationException($"The servers' state directory is unknown (endpoints from {Servers.Source}); set COORD_SERVERS_DIR.");

    private int ReadPid(string name)
    {
        var file = Path.Combine(ServersDirectory, name + ".pid");
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"{name} is not running: {file} does not exist.");
        }

        var text = File.ReadAllText(file).Trim();
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : throw new InvalidOperationException($"{file} holds '{text}', not a pid.");
    }

    private Task RunScriptAsync(CancellationToken cancellationToken, params string[] args) =>
        ServersScript.RunAsync(Servers, ServersDirectory, cancellationToken, args);

    private static void SendSignal(int pid, int signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        // The system call itself, not a spawned 'kill': starting a process can take seconds on a loaded machine, and a
        // fault's logged start or end must be when the signal was sent, not a moment before it.
        if (Posix.Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    // The signal is delivered asynchronously; wait until /proc shows the new state so the fault is in force.
    private static void WaitForState(int pid, bool stopped)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            var state = ReadState(pid);
            if (state is null || (state is 'T' or 't') == stopped)
            {
                return;
            }

            Thread.Sleep(5);
        }

        throw new TimeoutException($"Process {pid} did not become {(stopped ? "stopped" : "running")} within 5 s.");
    }

    private static char? ReadState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length ? stat[close + 2] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private sealed class PauseScope(ServerFaults faults, int pid) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                faults.ResumeProcess(pid);
            }
        }
    }

    private static class Posix
    {
        public const int SigCont = 18; // Linux (x86-64, arm64)
        public const int SigStop = 19;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Kill(int pid, int signal);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.Elections;
using Coordination.Locks;
using Coordination.Testing;
using Coordination.ZooKeeper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Coordination.Tests.Elections;

/// <summary>Leader elections on the standalone server, each candidate in its own container and session (issue 17).</summary>
public sealed class LeaderElectionTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly string _prefix = "t" + TestNamespace.NewId() + ":";
    private readonly string _root = "/t" + TestNamespace.NewId();

    private Task<ElectionNode> CandidateAsync(string id, Action<IHybridCoordinationBuilder>? elections = null, Action<HybridCoordinationOptions>? configure = null)
    {
        var node = new ElectionNode(_prefix, _root, id, elections ?? (b => b.AddLeaderElection("scheduler", o => o.InstanceId = id)), configure);
        _owned.Insert(0, node);
        return node.StartAsync();
    }

    private static async Task UntilLeaderAsync(ElectionNode node, string election = "scheduler")
    {
        try
        {
            await Poll.UntilAsync(() => node.Election(election).IsLeader, $"{node.InstanceId} leads '{election}'");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} State {node.Election(election).State}; logs: {string.Join(" | ", node.Logs.AtLeast(Microsoft.Extensions.Logging.LogLevel.Information).Select(e => e.Message + " " + e.Exception?.Message))}", ex);
        }
    }

    private static Task UntilFollowerAsync(ElectionNode node, string election = "scheduler") =>
        Poll.UntilAsync(() => node.Election(election).State == LeaderElectionState.Follower, $"{node.InstanceId} follows in '{election}'");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var o in _owned)
        {
            await o.DisposeAsync();
        }
    }

    [Fact]
    public async Task TwoCandidates_OneLeads_AndAnObserverReadsTheLeaderWithoutStanding()
    {
        var a = await CandidateAsync("a", b => b.AddLeaderElection("scheduler", o =>
        {
            o.InstanceId = "a";
            o.Endpoints.Add("http://a:8080");
        }));
        await UntilLeaderAsync(a);
        var b = await CandidateAsync("b");
        await UntilFollowerAsync(b);
        var observer = await CandidateAsync("o", b => b.AddLeaderElection("scheduler", o => o.Candidate = false));

        var election = observer.Election("scheduler");
        Assert.Equal(LeaderElectionState.NotParticipating, election.State);
        await Assert.ThrowsAsync<InvalidOperationException>(() => election.WaitForLeadershipAsync());
        await Poll.UntilAsync(async () => (await election.GetLeaderAsync())?.Since > DateTimeOffset.UnixEpoch, "the leader stamped its term");
        var leader = await election.GetLeaderAsync();
        Assert.NotNull(leader);
        Assert.Equal("a", leader.InstanceId);
        Assert.Equal(Environment.MachineName, leader.Host);
        Assert.Equal(["http://a:8080"], leader.Endpoints);
        Assert.Equal(a.Election("scheduler").FencingToken, leader.FencingToken);
        Assert.InRange(leader.Since, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.False(b.Election("scheduler").IsLeader);
        Assert.True(b.Election("scheduler").LeadershipToken.IsCancellationRequested, "a follower's leadership token is already cancelled");
    }

    [Fact]
    public async Task Resign_FiresTheTokenBeforeTheFollowerLeads_WithAHigherFencingToken()
    {
        var a = await CandidateAsync("a");
        var token = await a.Election("scheduler").WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var first = a.Election("scheduler").FencingToken;
        var b = await CandidateAsync("b");
        await UntilFollowerAsync(b);
        long fired = 0, elected = 0;
        token.Register(() => fired = Stopwatch.GetTimestamp());
        b.Election("scheduler").LeadershipChanged += (_, e) => elected = e.IsLeader ? Stopwatch.GetTimestamp() : elected;

        await a.Election("scheduler").ResignAsync();

        await UntilLeaderAsync(b);
        Assert.True(fired != 0 && elected != 0 && fired < elected, "the old leader's token fired before the follower was elected");
        Assert.True(b.Election("scheduler").FencingToken > first);
        await UntilFollowerAsync(a); // stands again, at the back
        Assert.Equal("b", (await a.Election("scheduler").GetLeaderAsync())?.InstanceId);
    }

    [Fact]
    public async Task Resign_EndsTheTermForTheCaller_BeforeItReturns()
    {
        // The loop a scheduler writes: lead, work, resign, wait for the next term. It must not get the old term back.
        var a = await CandidateAsync("a");
        var first = await a.Election("scheduler").WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var firstToken = a.Election("scheduler").FencingToken;
        var b = await CandidateAsync("b");
        await UntilFollowerAsync(b);

        await a.Election("scheduler").ResignAsync();

        Assert.True(first.IsCancellationRequested, "the resigned term's token fired before ResignAsync returned");
        Assert.False(a.Election("scheduler").IsLeader);
        Assert.Equal(0, a.Election("scheduler").FencingToken);
        var next = a.Election("scheduler").WaitForLeadershipAsync();
        Assert.False(next.IsCompleted, "WaitForLeadershipAsync returned at once after a resign: it handed back the term that ended");
        await UntilLeaderAsync(b);
        await b.Election("scheduler").ResignAsync();
        var second = await next.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(second.IsCancellationRequested);
        Assert.True(a.Election("scheduler").FencingToken > firstToken);
    }

    [Fact]
    public async Task SeveralElections_AreIndependent_AndAllResolveAsEnumerable()
    {
        var a = await CandidateAsync("a", b => b.AddLeaderElection("scheduler", o => o.InstanceId = "a").AddLeaderElection("relay", o => o.InstanceId = "a"));
        await UntilLeaderAsync(a, "scheduler");
        await UntilLeaderAsync(a, "relay");
        var b = await CandidateAsync("b", b => b.AddLeaderElection("relay", o => o.InstanceId = "b"));
        await UntilFollowerAsync(b, "relay");
        await a.Election("relay").ResignAsync();
        await UntilLeaderAsync(b, "relay");
        Assert.True(a.Election("scheduler").IsLeader);
        Assert.Equal(["relay", "scheduler"], a.Services.GetServices<ILeaderElection>().Select(e => e.Name).Order());
    }

    [Fact]
    public async Task LeaderPartitionedFromZooKeeper_LosesLeadershipBeforeAnotherIsElected_AndStandsAgainOnceHealed()
    {
        var gate = new TcpGate(TestEnv.ZooKeeper, open: true);
        _owned.Add(gate);
        var a = await CandidateAsync("a", configure: o => o.ZooKeeper = gate.Endpoint);
        var token = await a.Election("scheduler").WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var b = await CandidateAsync("b");
        await UntilFollowerAsync(b);
        long fired = 0, elected = 0;
        token.Register(() => fired = Stopwatch.GetTimestamp());
        b.Election("scheduler").LeadershipChanged += (_, e) => elected = e.IsLeader ? Stopwatch.GetTimestamp() : elected;

        gate.Close();
        await UntilLeaderAsync(b);
        Assert.True(fired != 0 && fired < elected, "the partitioned leader's token fired before the session expired and another was elected");
        Assert.False(a.Election("scheduler").IsLeader);

        gate.Open();
        await UntilFollowerAsync(a); // on the replacement session, behind b
        Assert.NotEqual(LeaderElectionState.Unknown, a.Election("scheduler").State);
        Assert.Equal("b", (await a.Election("scheduler").GetLeaderAsync())?.InstanceId);
    }

    [Fact]
    public async Task LeaderSessionExpires_TheFollowerLeads_AndTheOldLeaderStandsAgainOnTheReplacementSession()
    {
        var a = await CandidateAsync("a");
        var token = await a.Election("scheduler").WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var b = await CandidateAsync("b");
        await UntilFollowerAsync(b);
        var expired = a.Connections.ZooKeeperIfCreated!;

        await ZooKeeperSessionFaults.ExpireSessionAsync(expired, TestEnv.ZooKeeper);

        await UntilLeaderAsync(b);
        // The follower takes over at the watch event of the expired leader's node, with no read in between: the old
        // leader's token fires once its client has seen the expiry (the cancellation runs on the thread pool).
        await Poll.UntilAsync(() => token.IsCancellationRequested, "the expired leader's token fired");
        await UntilFollowerAsync(a);
        // Standing again needs the replacement session: the old leader is back in the queue on it.
        await Poll.UntilAsync(
            async () => a.Connections.ZooKeeperIfCreated is { State: ZooKeeperState.Connected } zk && !ReferenceEquals(zk, expired)
                && (await zk.GetChildrenAsync(((LeaderElection)a.Election("scheduler")).Directory, null)).Children.Count == 2,
            "the old leader stands again on a replacement session");
        Assert.Equal(LeaderElectionState.Follower, a.Election("scheduler").State);
    }

    [Fact]
    public async Task GracefulStop_OfTheLeader_HandsOverToTheFollower()
    {
        var a = await CandidateAsync("a");
        await UntilLeaderAsync(a);
        var b = await CandidateAsync("b");
        await UntilFollowerAsync(b);

        await a.StopAsync();

        Assert.Equal(LeaderElectionState.Stopped, a.Election("scheduler").State);
        await UntilLeaderAsync(b);
    }

    [Fact]
    public async Task ElectionNodes_AreReadableWithKazoo_LowestNodeHoldsTheLeadersJson()
    {
        var a = await CandidateAsync("a");
        await UntilLeaderAsync(a);
        var b = await CandidateAsync("b");
        await UntilFollowerAsync(b);
        var dir = ((LeaderElection)a.Election("scheduler")).Directory;

        const string Script = """
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1], timeout=10)
            zk.start(timeout=20)
            children = sorted(zk.get_children(sys.argv[2]), key=lambda c: int(c[-10:]))
            out = []
            for c in children:
                data, st = zk.get(sys.argv[2] + "/" + c)
                out.append({"name": c, "czxid": st.czxid, "ephemeral": st.ephemeralOwner != 0, "data": json.loads(data)})
            print(json.dumps(out), flush=True)
            zk.stop()
            """;
        var python = Environment.GetEnvironmentVariable("COORD_KAZOO_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3"; // Debian's, with python3-kazoo
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", Script, TestEnv.ZooKeeper, dir })
        {
            psi.ArgumentList.Add(arg);
        }

        using var kazoo = Process.Start(psi)!;
        var json = await kazoo.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await kazoo.WaitForExitAsync();
        Assert.True(kazoo.ExitCode == 0, await kazoo.StandardError.ReadToEndAsync());
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var nodes = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, nodes.Count);
        Assert.Matches("^[0-9a-f]{32}-[0-9]{10}$", nodes[0].GetProperty("name").GetString());
        Assert.True(nodes[0].GetProperty("ephemeral").GetBoolean());
        Assert.Equal("a", nodes[0].GetProperty("data").GetProperty("instanceId").GetString());
        Assert.Equal(a.Election("scheduler").FencingToken, nodes[0].GetProperty("czxid").GetInt64());
        Assert.Equal("b", nodes[1].GetProperty("data").GetProperty("instanceId").GetString());
        Assert.Equal(Environment.ProcessId, nodes[1].GetProperty("data").GetProperty("pid").GetInt32());
    }

    [Fact]
    public async Task HealthCheck_ReportsLeaderFollowerAndObserver()
    {
        var a = await CandidateAsync("a");
        await UntilLeaderAsync(a);
        var b = await CandidateAsync("b");
        await UntilFollowerAsync(b);
        var o = await CandidateAsync("o", b => b.AddLeaderElection("scheduler", o => o.Candidate = false));

        foreach (var (node, state) in new[] { (a, "Leader"), (b, "Follower"), (o, "NotParticipating") })
        {
            var entry = (await node.HealthAsync()).Entries["coordination-election-scheduler"];
            Assert.Equal(HealthStatus.Healthy, entry.Status);
            Assert.Equal(state, entry.Data["state"]);
        }
    }

    [Fact]
    public async Task RedisDown_ElectionsContinueOnZooKeeper_AndTheHealthCheckSaysDegraded()
    {
        await using var redis = new PrivateRedis();
        await redis.StartAsync();
        var a = await CandidateAsync("a", configure: o => o.Redis = redis.Endpoint + ",connectTimeout=500");
        await UntilLeaderAsync(a);
        var b = await CandidateAsync("b", configure: o => o.Redis = redis.Endpoint + ",connectTimeout=500");
        await UntilFollowerAsync(b);
        await Poll.UntilAsync(() => a.Connections.IsRedisConnected, "redis connected");

        await redis.StopAsync();
        await Poll.UntilAsync(() => !a.Connections.IsRedisConnected, "redis seen down");

        await a.Election("scheduler").ResignAsync();
        await UntilLeaderAsync(b);
        await UntilFollowerAsync(a);
        var entry = (await a.HealthAsync()).Entries["coordination-election-scheduler"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
    }

    [Fact]
    public void AddLeaderElection_WithAnEmptyName_ThrowsNamingTheParameter()
    {
        var builder = new ServiceCollection().AddHybridCoordination();
        var ex = Assert.ThrowsAny<ArgumentException>(() => builder.AddLeaderElection(" "));
        Assert.Equal("name", ex.ParamName);
    }

    [Fact]
    public async Task AddLeaderElection_WithoutZooKeeper_FailsAtStartup_NamingTheElectionAndTheOption()
    {
        // InProcess mode with no ZooKeeper: nobody could ever lead; the host must say so instead of following forever.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddHybridCoordination(o => o.Mode = LockMode.InProcess).AddLeaderElection("scheduler");
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Election 'scheduler' needs Coordination:ZooKeeper", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(" ", "InstanceId")]
    [InlineData("", "Endpoints")]
    public async Task AddLeaderElection_WithABadOption_FailsAtStartup_NamingIt(string value, string option)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddHybridCoordination(o => (o.Mode, o.ZooKeeper) = (LockMode.ZooKeeperOnly, TestServers.Current.ZooKeeper))
            .AddLeaderElection("scheduler", o =>
            {
                if (option == "InstanceId")
                {
                    o.InstanceId = value;
                }
                else
                {
                    o.Endpoints.Add(value);
                }
            });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("LeaderElectionOptions." + option, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddLeaderService_WithoutItsElection_ThrowsNamingTheElection()
    {
        var services = new ServiceCollection();
        services.AddHybridCoordination();
        var ex = Assert.Throws<InvalidOperationException>(() => services.AddLeaderService<ProbeService>("scheduler"));
        Assert.Contains("AddLeaderElection(\"scheduler\")", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LeaderService_RunsOnlyWhileLeading_HandOverWaitsForItToStop_AndItSurvivesItsOwnFailure()
    {
        void Elections(IHybridCoordinationBuilder b, string id)
        {
            b.AddLeaderElection("scheduler", o => o.InstanceId = id);
            b.Services.AddSingleton(new Probe { FailNextRun = id == "a", StopDelay = TimeSpan.FromMilliseconds(id == "a" ? 500 : 0) });
            b.Services.AddLeaderService<ProbeService>("scheduler");
        }

        var a = await CandidateAsync("a", b => Elections(b, "a"));
        await UntilLeaderAsync(a);
        var b = await CandidateAsync("b", b => Elections(b, "b"));
        await UntilFollowerAsync(b);
        var probeA = a.Services.GetRequiredService<Probe>();
        var probeB = b.Services.GetRequiredService<Probe>();

        // The first run throws: logged, retried while leading; the election is untouched.
        await Poll.UntilAsync(() => probeA.Starts == 2 && probeA.Running, "a's service failed once and runs again");
        Assert.Contains(a.Logs.Entries, e => e.EventId.Id == 2506 && e.Exception is InvalidOperationException);
        Assert.True(a.Election("scheduler").IsLeader);
        Assert.Equal(0, probeB.Starts);

        await a.Election("scheduler").ResignAsync();
        await Poll.UntilAsync(() => probeB.Running, "b's service runs");
        Assert.False(probeA.Running);
        Assert.True(probeA.LastStop < probeB.LastStart, "a's service (500 ms to wind down) stopped before b's started: the hand-over waited for it");

        // Re-election starts a fresh instance.
        await b.Election("scheduler").ResignAsync();
        await Poll.UntilAsync(() => probeA.Running && probeA.Starts == 3, "a's service runs again after re-election");
        Assert.False(probeB.Running);
    }

    /// <summary>What the leader-only test service saw, shared by its instances in one node.</summary>
    internal sealed class Probe
    {
        private int _starts;

        public volatile bool FailNextRun;

        public volatile bool Running;

        /// <summary>How long the service takes to wind down once its token fired (the hand-over waits for it).</summary>
        public TimeSpan StopDelay { get; init; }

        public int Starts => Volatile.Read(ref _starts);

        public long LastStart { get; private set; }

        public long LastStop { get; set; }

        public void Started()
        {
            LastStart = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _starts);
        }
    }

    internal sealed class ProbeService(Probe probe) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            probe.Started();
            if (probe.FailNextRun)
            {
                probe.FailNextRun = false;
                throw new InvalidOperationException("the first run fails");
            }

            probe.Running = true;
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            finally
            {
                await Task.Delay(probe.StopDelay, CancellationToken.None);
                probe.Running = false;
                probe.LastStop = Stopwatch.GetTimestamp();
            }
        }
    }
}

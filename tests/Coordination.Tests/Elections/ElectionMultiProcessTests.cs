using System.Diagnostics;
using System.Globalization;
using Coordination.Testing;
using Xunit.Abstractions;

namespace Coordination.Tests.Elections;

/// <summary>
/// Three OS processes stand in one election (issue 17): join order, graceful hand-over without overlap, crash
/// failover within the session timeout + 1 s, a paused leader. Hand-over and failover times are written to the
/// test output (the README's figures come from these runs).
/// </summary>
public sealed class ElectionMultiProcessTests(ITestOutputHelper output)
{
    private const int SessionTimeoutMs = 2000;

    private sealed class Cluster(string election) : IAsyncDisposable
    {
        private readonly string _prefix = "t" + TestNamespace.NewId() + ":";
        private readonly string _root = "/t" + TestNamespace.NewId();
        private int _next;

        /// <summary>Candidates in join order; the first leads.</summary>
        public List<ElectionProcess> Queue { get; } = [];

        public List<ElectionProcess> All { get; } = [];

        /// <summary>Starts a candidate and waits until its node is in the queue, so join order is the start order.</summary>
        public async Task<ElectionProcess> JoinAsync()
        {
            var p = ElectionProcess.Start(TestEnv.ZooKeeper, _prefix, _root, election, SessionTimeoutMs, "c" + _next++.ToString(CultureInfo.InvariantCulture));
            All.Add(p);
            await p.NextAsync("JOINED");
            Queue.Add(p);
            return p;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var p in All)
            {
                await p.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ThreeProcesses_AreElectedInJoinOrder_AndGracefulStopsHandOverWithoutOverlap()
    {
        await using var cluster = new Cluster("scheduler");
        for (var i = 0; i < 3; i++)
        {
            await cluster.JoinAsync();
        }

        var elected = await cluster.Queue[0].NextAsync("ELECTED");
        var token = long.Parse(elected[0], CultureInfo.InvariantCulture);

        // Any candidate, follower or leader, reads the same leader.
        await cluster.Queue[2].SendAsync("leader");
        Assert.Equal([cluster.Queue[0].InstanceId, elected[0]], await cluster.Queue[2].NextAsync("LEADER"));

        var gaps = new List<double>();
        const int Rounds = 10;
        for (var round = 0; round < Rounds; round++)
        {
            var leader = cluster.Queue[0];
            await leader.SendAsync("stop");
            var ended = await leader.NextAsync("ENDED");
            await leader.NextAsync("STOPPED");
            cluster.Queue.RemoveAt(0);

            // The next in join order leads, only after the old leader's token fired; nobody else moved.
            var next = await cluster.Queue[0].NextAsync("ELECTED");
            var nextToken = long.Parse(next[0], CultureInfo.InvariantCulture);
            Assert.True(nextToken > token, $"round {round}: token {nextToken} after {token}");
            Assert.Equal(token.ToString(CultureInfo.InvariantCulture), ended[0]);
            var gap = ElectionProcess.Ms(ElectionProcess.Ts(ended[1]), ElectionProcess.Ts(next[1]));
            Assert.True(gap >= 0, $"round {round}: the next leader was elected {-gap:0.0} ms before the old leader's token fired");
            gaps.Add(gap);
            token = nextToken;
            await cluster.JoinAsync();
            Assert.False(cluster.Queue[1].HasPendingLine || cluster.Queue[2].HasPendingLine, $"round {round}: a follower that was not next moved");
        }

        output.WriteLine(Figures("graceful hand-over (old token fired -> next elected)", gaps));
    }

    [Fact]
    public async Task KillingTheLeader_ElectsTheNextCandidate_WithinTheSessionTimeoutPlusOneSecond()
    {
        await using var cluster = new Cluster("relay");
        for (var i = 0; i < 3; i++)
        {
            await cluster.JoinAsync();
        }

        var token = long.Parse((await cluster.Queue[0].NextAsync("ELECTED"))[0], CultureInfo.InvariantCulture);
        var failovers = new List<double>();
        const int Rounds = 5;
        for (var round = 0; round < Rounds; round++)
        {
            var killedAt = Stopwatch.GetTimestamp();
            cluster.Queue[0].Kill();
            cluster.Queue.RemoveAt(0);
            var next = await cluster.Queue[0].NextAsync("ELECTED", TimeSpan.FromSeconds(30));
            var took = ElectionProcess.Ms(killedAt, ElectionProcess.Ts(next[1]));
            Assert.True(took <= SessionTimeoutMs + 1000, $"round {round}: failover took {took:0} ms, above the session timeout ({SessionTimeoutMs} ms) + 1 s");
            var nextToken = long.Parse(next[0], CultureInfo.InvariantCulture);
            Assert.True(nextToken > token);
            token = nextToken;
            failovers.Add(took);
            Assert.False(cluster.Queue[1].HasPendingLine, $"round {round}: the second follower moved");
            await cluster.JoinAsync();
        }

        output.WriteLine(Figures($"kill -9 failover, session timeout {SessionTimeoutMs} ms (kill -> next elected)", failovers));
    }

    [Fact]
    public async Task LeaderPausedPastTheSessionTimeout_IsReplaced_AndItsTokenFiresWhenItResumes()
    {
        await using var cluster = new Cluster("warmer");
        for (var i = 0; i < 3; i++)
        {
            await cluster.JoinAsync();
        }

        var paused = cluster.Queue[0];
        var token = long.Parse((await paused.NextAsync("ELECTED"))[0], CultureInfo.InvariantCulture);
        paused.Signal("STOP");
        try
        {
            var next = await cluster.Queue[1].NextAsync("ELECTED", TimeSpan.FromSeconds(30));
            Assert.True(long.Parse(next[0], CultureInfo.InvariantCulture) > token);
        }
        finally
        {
            paused.Signal("CONT");
        }

        // On resuming, the old leader learns its session is gone: its token fires, and it stands again at the back.
        var ended = await paused.NextAsync("ENDED", TimeSpan.FromSeconds(30));
        Assert.Equal(token.ToString(CultureInfo.InvariantCulture), ended[0]);
        await cluster.Queue[2].SendAsync("leader");
        Assert.Equal(cluster.Queue[1].InstanceId, (await cluster.Queue[2].NextAsync("LEADER"))[0]);
        Assert.False(cluster.Queue[2].HasPendingLine);
    }

    internal static string Figures(string what, List<double> samples)
    {
        var sorted = samples.Order().ToList();
        double P(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"{what}: n={sorted.Count} p50={P(0.5):0.0} ms p99={P(0.99):0.0} ms min={sorted[0]:0.0} max={sorted[^1]:0.0}");
    }
}

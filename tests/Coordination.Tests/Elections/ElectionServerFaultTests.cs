using Coordination.Elections;
using Coordination.Testing;
using Coordination.ZooKeeper;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Tests.Elections;

/// <summary>Elections across server faults (issue 17): ZooKeeper down fails closed and heals, a ZooKeeper leader failover is a blip.</summary>
[Collection(ServerFaultsCollection.Name)]
public sealed class ElectionServerFaultTests(ServersFixture servers) : IAsyncLifetime
{
    private readonly List<ElectionNode> _nodes = [];

    private async Task<ElectionNode> CandidateAsync(string id, string zooKeeper, int sessionSeconds)
    {
        var node = new ElectionNode("t" + TestNamespace.NewId() + ":", "/", id, b => b.AddLeaderElection("scheduler", o => o.InstanceId = id), o =>
        {
            o.ZooKeeper = zooKeeper;
            o.SessionTimeout = TimeSpan.FromSeconds(sessionSeconds);
        });
        _nodes.Insert(0, node);
        return await node.StartAsync();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes)
        {
            await n.DisposeAsync();
        }
    }

    [Fact]
    public async Task ZooKeeperDown_NobodyLeads_AndLeadershipResumesWithoutRestartWhenItIsBack()
    {
        var ns = TestNamespace.Create();
        var a = await CandidateAsync("a", servers.ZooKeeper(ns), 4);
        var token = await a.Election("scheduler").WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var b = await CandidateAsync("b", servers.ZooKeeper(ns), 4);
        await Poll.UntilAsync(() => b.Election("scheduler").State == LeaderElectionState.Follower, "b follows");

        await servers.Faults.StopStandaloneZooKeeperAsync();
        try
        {
            // Fail closed: the leader's token fires and neither instance claims leadership while ZooKeeper is gone.
            await Poll.UntilAsync(() => token.IsCancellationRequested, "the leader's token fires");
            Assert.False(a.Election("scheduler").IsLeader || b.Election("scheduler").IsLeader);
            await Poll.UntilAsync(
                () => a.Election("scheduler").State == LeaderElectionState.Unknown && b.Election("scheduler").State == LeaderElectionState.Unknown,
                "both candidates report Unknown");
            Assert.False(a.Election("scheduler").IsLeader || b.Election("scheduler").IsLeader);
        }
        finally
        {
            await servers.Faults.StartStandaloneZooKeeperAsync();
        }

        await Poll.UntilAsync(() => a.Election("scheduler").IsLeader || b.Election("scheduler").IsLeader, "someone leads again", TimeSpan.FromSeconds(60));
        await Poll.UntilAsync(
            () => a.Election("scheduler").State is LeaderElectionState.Leader or LeaderElectionState.Follower
                && b.Election("scheduler").State is LeaderElectionState.Leader or LeaderElectionState.Follower,
            "both stand again");
        Assert.False(a.Election("scheduler").IsLeader && b.Election("scheduler").IsLeader);
        var leader = await a.Election("scheduler").GetLeaderAsync();
        Assert.Contains(leader!.InstanceId, new[] { "a", "b" });
    }

    [Fact]
    public async Task ZooKeeperLeaderFailover_TheSessionSurvives_AndTheLeaderKeepsLeading()
    {
        var ns = TestNamespace.Create();
        var a = await CandidateAsync("a", servers.ZooKeeperEnsemble(ns), 10);
        var token = await a.Election("scheduler").WaitForLeadershipAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var fencing = a.Election("scheduler").FencingToken;
        var b = await CandidateAsync("b", servers.ZooKeeperEnsemble(ns), 10);
        await Poll.UntilAsync(() => b.Election("scheduler").State == LeaderElectionState.Follower, "b follows");
        var zk = a.Connections.ZooKeeperIfCreated!;
        var session = zk.SessionId;
        var suspended = false;
        zk.StateChanged += (_, e) => suspended |= e.Current == ZooKeeperState.Suspended;

        var member = await servers.Faults.FindEnsembleLeaderAsync() ?? throw new InvalidOperationException("the ensemble has no leader");
        await servers.Faults.StopEnsembleMemberAsync(member);
        try
        {
            await Poll.UntilAsync(() => suspended && zk.State == ZooKeeperState.Connected, "a's session is suspended and re-attaches", TimeSpan.FromSeconds(60));
            Assert.Equal(session, zk.SessionId);
            Assert.False(token.IsCancellationRequested, "a failover the session survived ended the term");
            Assert.True(a.Election("scheduler").IsLeader);
            Assert.Equal(fencing, a.Election("scheduler").FencingToken);
            Assert.False(b.Election("scheduler").IsLeader);
        }
        finally
        {
            await servers.Faults.StartEnsembleMemberAsync(member);
            await servers.Faults.WaitForEnsembleAsync();
        }

        Assert.False(token.IsCancellationRequested);
        Assert.Equal("a", (await b.Election("scheduler").GetLeaderAsync())?.InstanceId);
    }
}

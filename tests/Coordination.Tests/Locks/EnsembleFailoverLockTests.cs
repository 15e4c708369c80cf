using Coordination.Locks;
using Coordination.Testing;
using Coordination.ZooKeeper;

namespace Coordination.Tests.Locks;

/// <summary>A ZooKeeper leader failover that the session survives is a blip, not a lost lock (issue 14).</summary>
[Collection(ServerFaultsCollection.Name)]
public sealed class EnsembleFailoverLockTests(ServersFixture servers)
{
    [Theory]
    [InlineData(4)]
    [InlineData(10)]
    public async Task LeaderStopped_SessionReattaches_HeldLockIsNotReportedLost_AndTheKeyStaysUsable(int sessionSeconds)
    {
        var ns = TestNamespace.Create();
        await using var node = new LockNode(LockMode.Hybrid, ns.KeyPrefix, "/locks-test", o =>
        {
            o.ZooKeeper = servers.ZooKeeperEnsemble(ns);
            o.SessionTimeout = TimeSpan.FromSeconds(sessionSeconds);
        });
        await using var held = await node.Locks.AcquireAsync("failover");
        var zk = node.Connections.ZooKeeperIfCreated!;
        var session = zk.SessionId;
        var suspended = false;
        zk.StateChanged += (_, e) => suspended |= e.Current == ZooKeeperState.Suspended;

        var leader = await servers.Faults.FindEnsembleLeaderAsync() ?? throw new InvalidOperationException("the ensemble has no leader");
        await servers.Faults.StopEnsembleMemberAsync(leader);
        try
        {
            await Poll.UntilAsync(() => suspended && zk.State == ZooKeeperState.Connected, "the session is suspended and re-attaches", TimeSpan.FromSeconds(60));
            Assert.Equal(session, zk.SessionId);
            Assert.False(held.LostToken.IsCancellationRequested, "a failover the session survived reported the lock lost");

            // The key stays decided by the same holder; another caller still has to wait.
            await using var other = new LockNode(LockMode.Hybrid, ns.KeyPrefix, "/locks-test", o => o.ZooKeeper = servers.ZooKeeperEnsemble(ns));
            Assert.Null(await other.Locks.TryAcquireAsync("failover"));
        }
        finally
        {
            await servers.Faults.StartEnsembleMemberAsync(leader);
            await servers.Faults.WaitForEnsembleAsync();
        }

        Assert.False(held.LostToken.IsCancellationRequested);
    }
}

using System.Diagnostics;
using Coordination.Keys;
using Coordination.Locks;
using Coordination.Testing;
using Coordination.ZooKeeper;

namespace Coordination.Tests.Locks;

/// <summary>
/// The lock heals by itself after ZooKeeper faults the session survives (issue 14): no orphan node outlives an
/// unknown outcome, release never waits for an outage, requests fail fast once ZooKeeper is known to be gone.
/// Each test puts a <see cref="TcpGate"/> between one node and the standalone server to lose replies, cut or
/// silence the connection without touching the shared server.
/// </summary>
public sealed class LivenessTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly string _prefix = "t" + TestNamespace.NewId() + ":";
    private readonly string _root = "/t" + TestNamespace.NewId();

    private LockNode NewNode(Action<HybridCoordinationOptions>? configure = null)
    {
        var n = new LockNode(LockMode.Hybrid, _prefix, _root, configure);
        _owned.Add(n);
        return n;
    }

    /// <summary>A node whose ZooKeeper traffic passes through its own gate (the gate is disposed first).</summary>
    private (TcpGate Gate, LockNode Node) GatedNode(int sessionSeconds, TimeSpan? unavailableAfter = null)
    {
        var gate = new TcpGate(TestEnv.ZooKeeper, open: true);
        _owned.Insert(0, gate);
        return (gate, NewNode(o =>
        {
            o.ZooKeeper = gate.Endpoint;
            o.SessionTimeout = TimeSpan.FromSeconds(sessionSeconds);
            if (unavailableAfter is { } bound)
            {
                o.ZooKeeperUnavailableAfter = bound;
            }
        }));
    }

    /// <summary>Takes and releases <paramref name="key"/> once (session up, directory known); returns the session.</summary>
    private static async Task<ZooKeeperClient> WarmUpAsync(LockNode node, string key)
    {
        await (await node.Locks.AcquireAsync(key)).DisposeAsync();
        return node.Connections.ZooKeeperIfCreated!;
    }

    private async Task<ZooKeeperClient> ObserverAsync()
    {
        var zk = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectionString = TestEnv.ZooKeeper });
        _owned.Add(zk);
        return zk;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var o in _owned)
        {
            await o.DisposeAsync();
        }
    }

    private string Dir(string key) => _root + "/locks/" + LockKey.ToNodeName(key);

    private static string Key() => "k-" + TestNamespace.NewId();

    private static async Task<IReadOnlyList<string>> ChildrenAsync(ZooKeeperClient zk, string dir)
    {
        try
        {
            return (await zk.GetChildrenAsync(dir)).Children;
        }
        catch (NoNodeException)
        {
            return [];
        }
    }

    [Fact]
    public async Task CreateWhoseReplyIsLost_InAnOutageTheSessionSurvives_IsDeletedInTheBackground_AndTheKeyIsGrantedAgain()
    {
        var (gate, a) = GatedNode(20, TimeSpan.FromSeconds(1));
        var observer = await ObserverAsync();
        var key = Key();
        var zk = await WarmUpAsync(a, key);
        var session = zk.SessionId;

        // The create reaches the server and is applied; its reply is lost; then no server answers for a while.
        gate.MuteRepliesOfExisting();
        var attempt = a.Locks.AcquireAsync(key, TimeSpan.FromSeconds(60)).AsTask();
        await Poll.UntilAsync(async () => (await ChildrenAsync(observer, Dir(key))).Count == 1, "the create was applied on the server");
        var orphan = (await ChildrenAsync(observer, Dir(key)))[0];
        gate.Close();
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => attempt);
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.Contains(orphan, await ChildrenAsync(observer, Dir(key))); // the outcome was unknown to the caller

        // The same session comes back: the library finds the node by its owner id and deletes it by itself.
        gate.Open();
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Connected, "the session re-attaches");
        Assert.Equal(session, zk.SessionId);
        await Poll.UntilAsync(async () => !(await ChildrenAsync(observer, Dir(key))).Contains(orphan), "the orphan is deleted");

        var b = NewNode();
        await using var granted = await b.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30));
        await using var again = await a.Locks.TryAcquireAsync(key);
        Assert.Null(again); // b holds it: a's own retries are not blocked by anything but b
    }

    [Fact]
    public async Task Release_DuringAnOutage_ReturnsAtOnce_AndTheNodeGoesWhenTheSessionIsBack()
    {
        var (gate, a) = GatedNode(20);
        var observer = await ObserverAsync();
        var key = Key();
        var held = await a.Locks.AcquireAsync(key);
        var zk = a.Connections.ZooKeeperIfCreated!;
        gate.Close();
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Suspended, "the holder notices the outage");

        // Completes while no server can be reached: the delete is left to the background.
        await held.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(ZooKeeperState.Suspended, zk.State);
        Assert.Single(await ChildrenAsync(observer, Dir(key)));

        var b = NewNode();
        var waiter = b.Locks.AcquireAsync(key, TimeSpan.FromSeconds(60)).AsTask();
        gate.Open();
        await using var next = await waiter;
        Assert.True(next.FencingToken > held.FencingToken);
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Connected, "the holder's session re-attaches");
    }

    [Fact]
    public async Task Acquire_AfterZooKeeperWasSilentPastTheBound_FailsAtOnce_AndWorksWhenItIsBack()
    {
        var (gate, a) = GatedNode(20, TimeSpan.FromMilliseconds(500));
        var key = Key();
        var zk = await WarmUpAsync(a, key);
        gate.Close();
        await Poll.UntilAsync(
            () => zk.State == ZooKeeperState.Suspended && Stopwatch.GetElapsedTime(zk.LastHeardFromServer) > TimeSpan.FromMilliseconds(600),
            "ZooKeeper has been silent past the bound");

        // Known gone: the request does not wait for the connection (before: up to a third of the session timeout).
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<LockUnavailableException>(async () => await a.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30)));
        sw.Stop();
        Assert.Contains("has answered for", ex.Message, StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"fail-fast took {sw.Elapsed}");
        Assert.Equal(Diagnostics.CoordinationHealthMode.Unavailable, a.Status.Mode);

        gate.Open();
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Connected, "the session re-attaches");
        await using var h = await a.Locks.AcquireAsync(key, TimeSpan.FromSeconds(10));
        Assert.Equal(Diagnostics.CoordinationHealthMode.Normal, a.Status.Mode);
    }

    [Fact]
    public async Task Acquire_DuringABlipShorterThanTheBound_WaitsAndSucceeds()
    {
        var (gate, a) = GatedNode(20, TimeSpan.FromSeconds(15));
        var key = Key();
        var zk = await WarmUpAsync(a, key);
        gate.Close();
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Suspended, "the client notices the cut");

        var attempt = a.Locks.TryAcquireAsync(key).AsTask();
        Assert.False(attempt.IsCompleted);
        gate.Open();
        await using var h = await attempt;
        Assert.NotNull(h);
    }

    [Fact]
    public async Task HeldLock_WhenNoServerAnswers_IsReportedLost_BeforeTheServerCouldExpireTheSession()
    {
        var (gate, a) = GatedNode(4);
        await using var held = await a.Locks.AcquireAsync(Key());
        var zk = a.Connections.ZooKeeperIfCreated!;
        var lostAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        held.LostToken.Register(() => lostAt.TrySetResult(Stopwatch.GetTimestamp()));

        // A hung network: the connection stays open but nothing gets through, and no new connection is accepted.
        gate.FreezeExisting();
        gate.Close();
        var lost = await lostAt.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The server cannot expire the session before it heard our last answered request plus the session timeout.
        var sinceLastAcknowledged = Stopwatch.GetElapsedTime(zk.LastAcknowledgedSend, lost);
        Assert.True(sinceLastAcknowledged < zk.NegotiatedSessionTimeout, $"lost {sinceLastAcknowledged} after the last acknowledged request; session timeout {zk.NegotiatedSessionTimeout}");
        Assert.True(sinceLastAcknowledged >= zk.NegotiatedSessionTimeout * 0.7, $"lost already {sinceLastAcknowledged} after the last acknowledged request");
    }
}

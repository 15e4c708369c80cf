using System.Collections.Concurrent;
using System.Text;
using Coordination.Testing;

namespace Coordination.ZooKeeper.Tests;

/// <summary>Tests that stop ensemble members run alone: no other test may lose its server meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnsembleFaultsCollection
{
    public const string Name = "Ensemble faults";
}

/// <summary>
/// A client on the 3-node ensemble (with a chroot) whose member is stopped moves to another member, keeps its
/// session, ephemerals and watches, and gets the events it missed while it was away.
/// </summary>
[Collection(EnsembleFaultsCollection.Name)]
public sealed class EnsembleFailoverTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static Task<ZooKeeperClient> ConnectAsync(string connectionString, bool shuffle = true) =>
        ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = connectionString,
            SessionTimeout = TimeSpan.FromSeconds(15),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            OperationTimeout = TimeSpan.FromSeconds(20),
            ShuffleHosts = shuffle,
        });

    /// <summary>Records events per watch so "exactly once" can be checked per watch.</summary>
    private sealed class Recorder
    {
        public ConcurrentQueue<WatchedEvent> Data { get; } = new();

        public ConcurrentQueue<WatchedEvent> Exist { get; } = new();

        public ConcurrentQueue<WatchedEvent> Child { get; } = new();

        public ConcurrentQueue<WatchedEvent> Untouched { get; } = new();

        public ConcurrentQueue<WatchedEvent> Recursive { get; } = new();

        public ConcurrentQueue<ZooKeeperState> States { get; } = new();

        public async Task ArmAsync(ZooKeeperClient zk)
        {
            zk.StateChanged += (_, e) => States.Enqueue(e.Current);
            await zk.CreateAsync("/data", B("v0"));
            await zk.CreateAsync("/kids", ReadOnlyMemory<byte>.Empty);
            await zk.CreateAsync("/tree", ReadOnlyMemory<byte>.Empty);
            await zk.CreateAsync("/still", B("same"));
            await zk.GetDataAsync("/data", Data.Enqueue);
            Assert.Null(await zk.ExistsAsync("/later", Exist.Enqueue));
            await zk.GetChildrenAsync("/kids", Child.Enqueue);
            await zk.GetDataAsync("/still", Untouched.Enqueue);
            await zk.AddWatchAsync("/tree", Recursive.Enqueue, AddWatchMode.PersistentRecursive);
        }

        /// <summary>The one-shot changes: each armed one-shot watch (except /still's) fires on one of them.</summary>
        public static async Task ChangeAsync(ZooKeeperClient writer)
        {
            await writer.SetDataAsync("/data", B("v1"));
            await writer.CreateAsync("/later", B("l"));
            await writer.CreateAsync("/kids/a", ReadOnlyMemory<byte>.Empty);
        }

        public async Task AssertOneShotsFiredOnceAsync(ZooKeeperClient writer)
        {
            await Poll.UntilAsync(() => !Data.IsEmpty && !Exist.IsEmpty && !Child.IsEmpty, "the one-shot watches fire");

            // Changes that would fire the same watches again, then a marker seen by the recursive watch: the server
            // sends notifications in order, so any duplicate would have arrived before the marker.
            await writer.SetDataAsync("/data", B("v2"));
            await writer.DeleteAsync("/later");
            await writer.CreateAsync("/kids/b", ReadOnlyMemory<byte>.Empty);
            var before = Recursive.Count;
            await writer.CreateAsync("/tree/marker", ReadOnlyMemory<byte>.Empty);
            await Poll.UntilAsync(() => Recursive.Any(e => e.Path == "/tree/marker"), "the marker event");

            Assert.Equal([new WatchedEvent(WatchEventType.NodeDataChanged, WatchedEventState.SyncConnected, "/data")], Data);
            Assert.Equal([new WatchedEvent(WatchEventType.NodeCreated, WatchedEventState.SyncConnected, "/later")], Exist);
            Assert.Equal([new WatchedEvent(WatchEventType.NodeChildrenChanged, WatchedEventState.SyncConnected, "/kids")], Child);
            Assert.Empty(Untouched);
            Assert.Equal(before + 1, Recursive.Count);
        }

        /// <summary>The states after the first Suspended: exactly one Suspended, then Connected.</summary>
        public void AssertSuspendedThenConnected()
        {
            Assert.Equal([ZooKeeperState.Suspended, ZooKeeperState.Connected], States.SkipWhile(s => s != ZooKeeperState.Suspended));
        }
    }

    [Fact]
    public async Task StoppingTheConnectedMember_MovesTheClientWithSessionEphemeralsAndWatches()
    {
        var chroot = ZkEnv.NewChroot();
        await using var zk = await ConnectAsync(ZkEnv.Ensemble + chroot);
        var rec = new Recorder();
        await rec.ArmAsync(zk);
        var eph = await zk.CreateAsync("/eph", B("mine"), CreateMode.EphemeralSequential);
        var session = zk.SessionId;
        var victimServer = zk.ConnectedServer!;
        var victim = EnsembleControl.IndexOf(victimServer);

        await EnsembleControl.StopMemberAsync(victim);
        try
        {
            await Poll.UntilAsync(() => zk.State == ZooKeeperState.Connected && zk.ConnectedServer is not null && zk.ConnectedServer != victimServer, "the client moves to another member", TimeSpan.FromSeconds(30));
            Assert.Equal(session, zk.SessionId);
            await Poll.UntilAsync(() => rec.States.Contains(ZooKeeperState.Connected), "Connected state event");
            rec.AssertSuspendedThenConnected();

            var others = string.Join(',', EnsembleControl.Members.Where((_, i) => i != victim));
            await using var writer = await ConnectAsync(others + chroot);
            Assert.Equal(session, (await writer.ExistsAsync(eph.Path))!.EphemeralOwner);
            Assert.Equal(session, (await zk.ExistsAsync(eph.Path))!.EphemeralOwner);

            await Recorder.ChangeAsync(writer);
            await writer.CreateAsync("/tree/x", B("1"));
            await writer.SetDataAsync("/tree/x", B("2"));
            await Poll.UntilAsync(() => rec.Recursive.Count == 2, "recursive events after the move");
            Assert.Equal(
                [(WatchEventType.NodeCreated, "/tree/x"), (WatchEventType.NodeDataChanged, "/tree/x")],
                rec.Recursive.Select(e => (e.Type, e.Path!)));
            await rec.AssertOneShotsFiredOnceAsync(writer);
            Assert.Equal(session, zk.SessionId);
        }
        finally
        {
            await EnsembleControl.StartMemberAsync(victim);
        }
    }

    [Fact]
    public async Task ChangesMadeWhileDisconnected_FireTheWatchesOnceTheClientMoves()
    {
        // The client first talks to a follower (stopping it needs no leader election); its only other server is
        // behind a gate we open after the changes, so they are certainly made while it is disconnected.
        var members = EnsembleControl.Members;
        var modes = await Task.WhenAll(Enumerable.Range(0, members.Count).Select(EnsembleControl.ModeAsync));
        var victim = Array.IndexOf(modes, "follower");
        Assert.True(victim >= 0, $"no follower in the ensemble (modes: {string.Join(", ", modes)})");
        var others = members.Where((_, i) => i != victim).ToList();
        var chroot = ZkEnv.NewChroot();
        await using var gate = new TcpGate(others[0]);
        await using var zk = await ConnectAsync($"{members[victim]},{gate.Endpoint}{chroot}", shuffle: false);
        Assert.Equal(members[victim], zk.ConnectedServer);
        var rec = new Recorder();
        await rec.ArmAsync(zk);
        var eph = await zk.CreateAsync("/eph", B("mine"), CreateMode.Ephemeral);
        var session = zk.SessionId;
        await using var writer = await ConnectAsync(string.Join(',', others) + chroot);

        await EnsembleControl.StopMemberAsync(victim);
        try
        {
            await Poll.UntilAsync(() => zk.State == ZooKeeperState.Suspended, "the client notices the stop");
            await Recorder.ChangeAsync(writer);
            await writer.CreateAsync("/tree/missed", ReadOnlyMemory<byte>.Empty);
            Assert.Equal(ZooKeeperState.Suspended, zk.State);
            Assert.Empty(rec.Data);

            gate.Open();
            await Poll.UntilAsync(() => zk.State == ZooKeeperState.Connected, "the client re-attaches through the other member", TimeSpan.FromSeconds(30));
            Assert.Equal(session, zk.SessionId);
            Assert.Equal(gate.Endpoint, zk.ConnectedServer);
            await Poll.UntilAsync(() => rec.States.Contains(ZooKeeperState.Connected), "Connected state event");
            rec.AssertSuspendedThenConnected();
            Assert.Equal(session, (await writer.ExistsAsync(eph.Path))!.EphemeralOwner);

            // SetWatches2 with the last zxid seen: the server fires the one-shot watches for what was missed.
            await rec.AssertOneShotsFiredOnceAsync(writer);

            // Persistent watches are re-registered (they fire for new changes) but ZooKeeper does not replay what
            // they missed: /tree/missed is not reported; callers re-read on reconnect (StateChanged).
            Assert.Equal([(WatchEventType.NodeCreated, "/tree/marker")], rec.Recursive.Select(e => (e.Type, e.Path!)));
        }
        finally
        {
            await EnsembleControl.StartMemberAsync(victim);
        }
    }
}

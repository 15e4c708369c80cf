using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Coordination.Testing;

namespace Coordination.ZooKeeper.Tests;

/// <summary>Reconnects to the same (standalone) server, forced by cutting the connection at a TCP gate.</summary>
public sealed class ReconnectTests
{
    [Fact]
    public async Task ThousandsOfWatches_AreAllReRegisteredAfterAReconnect()
    {
        // ~1.2 MB of watched paths: more than one frame may carry (jute.maxbuffer, 1 MiB), so SetWatches2 must be split.
        var chroot = ZkEnv.NewChroot();
        await using var gate = new TcpGate(ZkEnv.Standalone);
        gate.Open();
        await using var zk = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = gate.Endpoint + chroot,
            SessionTimeout = TimeSpan.FromSeconds(10),
            OperationTimeout = TimeSpan.FromSeconds(30),
        });
        await using var writer = await ZkEnv.ConnectAsync(chroot);
        var states = new ConcurrentQueue<ZooKeeperState>();
        zk.StateChanged += (_, e) => states.Enqueue(e.Current);
        var fired = new ConcurrentQueue<WatchedEvent>();
        var padding = new string('p', 380);
        var paths = Enumerable.Range(0, 3000).Select(i => $"/{padding}-{i:D5}").ToList();
        await Task.WhenAll(paths.Select(p => zk.ExistsAsync(p, fired.Enqueue)));

        gate.DropConnections();
        await Poll.UntilAsync(() => states.Contains(ZooKeeperState.Suspended), "the client notices the cut");
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Connected, "the client reconnects");

        await writer.CreateAsync(paths[0], ReadOnlyMemory<byte>.Empty);
        await writer.CreateAsync(paths[^1], ReadOnlyMemory<byte>.Empty);
        await Poll.UntilAsync(() => fired.Count == 2, "the watches on the first and the last path fire");
        Assert.Equal([paths[0], paths[^1]], fired.Select(e => e.Path!).Order(StringComparer.Ordinal));
        Assert.All(fired, e => Assert.Equal(WatchEventType.NodeCreated, e.Type));
        Assert.Equal([ZooKeeperState.Suspended, ZooKeeperState.Connected], states.SkipWhile(s => s != ZooKeeperState.Suspended));
    }

    [Fact]
    public async Task ASilentServer_IsLeftAfterTheReadTimeoutAndTheSessionReAttached()
    {
        // The connection stays open but nothing comes back (hung server, dead network): only the client's
        // read timeout (2/3 of the session timeout, pings every 1/3) can notice.
        var chroot = ZkEnv.NewChroot();
        await using var gate = new TcpGate(ZkEnv.Standalone);
        gate.Open();
        await using var zk = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = gate.Endpoint + chroot,
            SessionTimeout = TimeSpan.FromSeconds(3),
            OperationTimeout = TimeSpan.FromSeconds(20),
        });
        await using var observer = await ZkEnv.ConnectAsync(chroot);
        var states = new ConcurrentQueue<ZooKeeperState>();
        zk.StateChanged += (_, e) => states.Enqueue(e.Current);
        var eph = await zk.CreateAsync("/eph", ReadOnlyMemory<byte>.Empty, CreateMode.Ephemeral);
        var session = zk.SessionId;

        gate.FreezeExisting();
        var pending = zk.GetDataAsync(eph.Path); // sent into the void: fails with ConnectionLoss, never hangs
        await Assert.ThrowsAsync<ConnectionLossException>(() => pending);
        await Poll.UntilAsync(() => states.Contains(ZooKeeperState.Suspended), "the client gives up on the silent connection");
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Connected, "the client re-attaches on a new connection");

        Assert.Equal(session, zk.SessionId);
        Assert.Equal(session, (await zk.ExistsAsync(eph.Path))!.EphemeralOwner);
        Assert.Equal(session, (await observer.ExistsAsync(eph.Path))!.EphemeralOwner);
        Assert.Equal([ZooKeeperState.Suspended, ZooKeeperState.Connected], states.SkipWhile(s => s != ZooKeeperState.Suspended));
    }

    [Fact]
    public async Task ConnectAsync_WithNoServerUp_FailsAfterTheOperationTimeoutInsteadOfWaitingForever()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now

        var connect = ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = $"127.0.0.1:{port}",
            ConnectTimeout = TimeSpan.FromMilliseconds(200),
            OperationTimeout = TimeSpan.FromMilliseconds(700),
        });
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => connect.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallWhileDisconnected_AfterNoServerAnsweredForUnavailableAfter_FailsAtOnce_InsteadOfWaitingTheOperationTimeout()
    {
        await using var gate = new TcpGate(ZkEnv.Standalone, open: true);
        await using var zk = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = gate.Endpoint,
            SessionTimeout = TimeSpan.FromSeconds(20),
            OperationTimeout = TimeSpan.FromSeconds(60),
            UnavailableAfter = TimeSpan.FromMilliseconds(300),
        });
        gate.Close();
        await Poll.UntilAsync(
            () => zk.State == ZooKeeperState.Suspended && System.Diagnostics.Stopwatch.GetElapsedTime(zk.LastHeardFromServer) > TimeSpan.FromMilliseconds(400),
            "no server has answered for longer than UnavailableAfter");

        var ex = await Assert.ThrowsAsync<ConnectionLossException>(() => zk.ExistsAsync("/").WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("UnavailableAfter", ex.Message, StringComparison.Ordinal);

        // The same session re-attaches when a server answers again, and calls go through.
        var session = zk.SessionId;
        gate.Open();
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Connected, "the session re-attaches");
        Assert.Equal(session, zk.SessionId);
        Assert.NotNull(await zk.ExistsAsync("/"));
    }
}

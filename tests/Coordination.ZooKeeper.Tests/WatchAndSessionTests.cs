using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Coordination.Testing;

namespace Coordination.ZooKeeper.Tests;

public sealed class WatchAndSessionTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task OneShotWatches_FireExactlyOnce()
    {
        var chroot = ZkEnv.NewChroot();
        await using var zk = await ZkEnv.ConnectAsync(chroot);
        await using var other = await ZkEnv.ConnectAsync(chroot);
        var events = new ConcurrentQueue<WatchedEvent>();
        void Watcher(WatchedEvent e) => events.Enqueue(e);

        Assert.Null(await zk.ExistsAsync("/w", Watcher));
        await other.CreateAsync("/w", B("1"));
        await Poll.UntilAsync(() => events.Count == 1, "NodeCreated");
        Assert.Equal(new WatchedEvent(WatchEventType.NodeCreated, WatchedEventState.SyncConnected, "/w"), events.Single());

        await zk.GetDataAsync("/w", Watcher);
        await zk.GetChildrenAsync("/w", Watcher);
        await other.SetDataAsync("/w", B("2"));
        await other.SetDataAsync("/w", B("3"));
        await other.CreateAsync("/w/c", B("x"));
        await other.CreateAsync("/w/d", B("x"));
        await Poll.UntilAsync(() => events.Count == 3, "data and child events");
        // A marker change: once its watch fires, any duplicate of the earlier events would have arrived too.
        var marker = new TaskCompletionSource();
        await zk.ExistsAsync("/marker", _ => marker.TrySetResult());
        await other.CreateAsync("/marker", B("m"));
        await marker.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(
            [WatchEventType.NodeCreated, WatchEventType.NodeDataChanged, WatchEventType.NodeChildrenChanged],
            events.Select(e => e.Type));
    }

    [Fact]
    public async Task PersistentWatches_FireForEveryChangeInOrder()
    {
        var chroot = ZkEnv.NewChroot();
        // One session per watch mode: the server keeps one mode per path and session.
        await using var zk = await ZkEnv.ConnectAsync(chroot);
        await using var zkr = await ZkEnv.ConnectAsync(chroot);
        await using var writer = await ZkEnv.ConnectAsync(chroot);
        await writer.CreateAsync("/cfg", ReadOnlyMemory<byte>.Empty);
        var persistent = new ConcurrentQueue<WatchedEvent>();
        var recursive = new ConcurrentQueue<WatchedEvent>();
        await zk.AddWatchAsync("/cfg", persistent.Enqueue, AddWatchMode.Persistent);
        await zkr.AddWatchAsync("/cfg", recursive.Enqueue, AddWatchMode.PersistentRecursive);

        for (var i = 0; i < 5; i++)
        {
            await writer.SetDataAsync("/cfg", B($"v{i}"));
        }

        await writer.CreateAsync("/cfg/a", B("a"));
        await writer.CreateAsync("/cfg/a/b", B("b"));
        await writer.SetDataAsync("/cfg/a/b", B("b2"));
        await writer.DeleteAsync("/cfg/a/b");

        await Poll.UntilAsync(() => recursive.Count == 9, "9 recursive events");
        await Poll.UntilAsync(() => persistent.Count == 6, "6 persistent events");
        Assert.Equal(
            Enumerable.Repeat((WatchEventType.NodeDataChanged, "/cfg"), 5).Concat([
                (WatchEventType.NodeCreated, "/cfg/a"),
                (WatchEventType.NodeCreated, "/cfg/a/b"),
                (WatchEventType.NodeDataChanged, "/cfg/a/b"),
                (WatchEventType.NodeDeleted, "/cfg/a/b"),
            ]),
            recursive.Select(e => (e.Type, e.Path!)));
        Assert.Equal(
            Enumerable.Repeat((WatchEventType.NodeDataChanged, "/cfg"), 5).Append((WatchEventType.NodeChildrenChanged, "/cfg")),
            persistent.Select(e => (e.Type, e.Path!)));

        await zkr.RemoveWatchesAsync("/cfg", null, WatcherType.PersistentRecursive);
        await zk.RemoveWatchesAsync("/cfg", null, WatcherType.Persistent);
        await writer.SetDataAsync("/cfg", B("after"));
        var marker = new TaskCompletionSource();
        var marker2 = new TaskCompletionSource();
        await zk.ExistsAsync("/cfg", _ => marker.TrySetResult());
        await zkr.ExistsAsync("/cfg", _ => marker2.TrySetResult());
        await writer.SetDataAsync("/cfg", B("after2"));
        await marker.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await marker2.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(9, recursive.Count);
        Assert.Equal(6, persistent.Count);
        var none = await Assert.ThrowsAsync<ZooKeeperException>(() => zk.RemoveWatchesAsync("/cfg", null, WatcherType.Persistent));
        Assert.Equal(ZooKeeperErrorCode.NoWatcher, none.Code);
    }

    [Fact]
    public async Task ForcedSessionExpiry_RemovesEphemeralsAndFailsCalls()
    {
        var chroot = ZkEnv.NewChroot();
        await using var observer = await ZkEnv.ConnectAsync(chroot);
        await using var zk = await ZkEnv.ConnectAsync(chroot);
        await zk.CreateAsync("/eph", B("x"), CreateMode.Ephemeral);
        var expiredEvent = new TaskCompletionSource<WatchedEvent>();
        await zk.GetDataAsync("/eph", e => expiredEvent.TrySetResult(e));
        var states = new ConcurrentQueue<ZooKeeperState>();
        zk.StateChanged += (_, e) => states.Enqueue(e.Current);

        await ZkEnv.ExpireAsync(zk, ZkEnv.Standalone + chroot);

        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Expired, "client reports Expired");
        Assert.Null(await observer.ExistsAsync("/eph"));
        await Assert.ThrowsAsync<SessionExpiredException>(() => zk.GetDataAsync("/eph"));
        await Assert.ThrowsAsync<SessionExpiredException>(() => zk.WaitForConnectedAsync());
        var ev = await expiredEvent.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WatchedEventState.Expired, ev.State);
        await Poll.UntilAsync(() => states.Contains(ZooKeeperState.Expired), "Expired state event");
    }

    [Fact]
    public async Task UnreachableServer_FailsWithinTheConfiguredBounds()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now

        await using var zk = new ZooKeeperClient(new ZooKeeperClientOptions
        {
            ConnectionString = $"127.0.0.1:{port}",
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
            OperationTimeout = TimeSpan.FromMilliseconds(800),
        });
        var sw = Stopwatch.StartNew();
        await Assert.ThrowsAsync<ConnectionLossException>(() => zk.ExistsAsync("/x"));
        Assert.Equal(ZooKeeperState.Connecting, zk.State);
        await Assert.ThrowsAsync<TimeoutException>(() => zk.WaitForConnectedAsync(TimeSpan.FromMilliseconds(200)));

        using var cts = new CancellationTokenSource();
        var pending = zk.GetDataAsync("/x", cancellationToken: cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30)); // sanity: nothing waited for ever
    }

    [Fact]
    public async Task SilentServer_GivesConnectTimeoutNotAHang()
    {
        // Accepts TCP but never answers the handshake.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var zk = new ZooKeeperClient(new ZooKeeperClientOptions
        {
            ConnectionString = $"127.0.0.1:{port}",
            ConnectTimeout = TimeSpan.FromMilliseconds(200),
            OperationTimeout = TimeSpan.FromMilliseconds(600),
        });
        await Assert.ThrowsAsync<ConnectionLossException>(() => zk.CreateAsync("/x", ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public async Task CancellingAPendingCall_ReturnsPromptly()
    {
        await using var zk = await ZkEnv.ConnectAsync(ZkEnv.NewChroot());
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => zk.ExistsAsync("/x", cancellationToken: cts.Token));
        Assert.Equal(ZooKeeperState.Connected, zk.State);
        Assert.Null(await zk.ExistsAsync("/x"));
    }
}

using System.Collections.Concurrent;
using Coordination.Testing;
using Microsoft.Extensions.Logging;

namespace Coordination.ZooKeeper.Tests;

/// <summary>An orderly close is not an outage: nothing to warn about, and Closed is final.</summary>
public sealed class ShutdownTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dispose_OfAConnectedClient_LogsNoWarning_AndNeverLeavesClosed(bool ensemble)
    {
        var logs = new CapturingLoggerProvider();
        var states = new ConcurrentQueue<ZooKeeperStateChangedEventArgs>();
        var zk = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = ensemble ? ZkEnv.Ensemble : ZkEnv.Standalone,
            SessionTimeout = TimeSpan.FromSeconds(4),
        }, logs);
        zk.StateChanged += (_, e) => states.Enqueue(e);
        await zk.CreateAsync(ZkEnv.NewChroot(), ReadOnlyMemory<byte>.Empty, CreateMode.Ephemeral);

        await zk.DisposeAsync();

        // DisposeAsync drains the event thread, so every state change has been delivered by now.
        Assert.Equal(ZooKeeperState.Closed, zk.State);
        // (The Connecting -> Connected event may still be on its way when the handler is added.)
        var changes = states.Select(e => (e.Previous, e.Current)).Where(c => c.Previous != ZooKeeperState.Connecting).ToList();
        Assert.Equal([(ZooKeeperState.Connected, ZooKeeperState.Closed)], changes);
        Assert.Empty(logs.AtLeast(LogLevel.Warning));
    }

    [Fact]
    public async Task Dispose_WhileSuspended_EndsClosed_WithoutReportingAnExpiry()
    {
        var logs = new CapturingLoggerProvider();
        await using var gate = new TcpGate(ZkEnv.Standalone, open: true);
        var zk = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectionString = gate.Endpoint, SessionTimeout = TimeSpan.FromSeconds(4) }, logs);
        var states = new ConcurrentQueue<ZooKeeperState>();
        zk.StateChanged += (_, e) => states.Enqueue(e.Current);
        gate.Close();
        await Poll.UntilAsync(() => zk.State == ZooKeeperState.Suspended, "the client notices the cut");

        await zk.DisposeAsync();

        Assert.Equal(ZooKeeperState.Closed, zk.State);
        Assert.Equal(ZooKeeperState.Closed, states.Last());
        Assert.DoesNotContain(ZooKeeperState.Expired, states);
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
    }
}

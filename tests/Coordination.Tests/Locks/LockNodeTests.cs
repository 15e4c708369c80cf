using Coordination.Testing;
using Coordination.Locks;

namespace Coordination.Tests.Locks;

/// <summary>A test class that owns its nodes and its Redis prefix and ZooKeeper root; nodes are disposed after each test.</summary>
public abstract class LockNodeTests : IAsyncLifetime
{
    private readonly List<LockNode> _nodes = [];

    protected string Prefix { get; } = "t" + TestNamespace.NewId() + ":";

    protected string Root { get; } = "/t" + TestNamespace.NewId();

    protected LockNode NewNode(LockMode mode = LockMode.Hybrid, Action<HybridCoordinationOptions>? configure = null)
    {
        var n = new LockNode(mode, Prefix, Root, configure);
        _nodes.Add(n);
        return n;
    }

    /// <summary>A hybrid node whose ZooKeeper is a port nobody listens on.</summary>
    protected LockNode NewNodeWithoutZooKeeper(int deadPort, Action<HybridCoordinationOptions>? configure = null) =>
        NewNode(configure: o =>
        {
            o.ZooKeeper = $"127.0.0.1:{deadPort}";
            o.ConnectTimeout = TimeSpan.FromMilliseconds(300);
            configure?.Invoke(o);
        });

    protected static string Key() => "k-" + TestNamespace.NewId();

    /// <summary>
    /// Waits until the waiters on <paramref name="nodes"/> have parked (a waiter shows up in the queue before it has
    /// set its watches), then checks that waiting costs no requests: nobody polls.
    /// </summary>
    protected static async Task AssertParkedWaitersSendNothingAsync(IReadOnlyList<LockNode> nodes)
    {
        long[] Sent() => nodes.Select(n => n.Connections.GetZooKeeper().RequestsSent).ToArray();
        await Poll.UntilAsync(async () =>
        {
            var first = Sent();
            await Task.Delay(200);
            return first.SequenceEqual(Sent());
        }, "every waiter parked");
        var before = Sent();
        await Task.Delay(1500);
        Assert.Equal(before, Sent());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes)
        {
            await n.DisposeAsync();
        }
    }
}

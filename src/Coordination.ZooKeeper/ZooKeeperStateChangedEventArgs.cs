namespace Coordination.ZooKeeper;

/// <summary>Arguments of <see cref="ZooKeeperClient.StateChanged"/>.</summary>
public sealed class ZooKeeperStateChangedEventArgs(ZooKeeperState previous, ZooKeeperState current) : EventArgs
{
    /// <summary>The state before the change.</summary>
    public ZooKeeperState Previous { get; } = previous;

    /// <summary>The new state.</summary>
    public ZooKeeperState Current { get; } = current;
}

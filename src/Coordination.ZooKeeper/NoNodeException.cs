namespace Coordination.ZooKeeper;

/// <summary>The node does not exist.</summary>
public sealed class NoNodeException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.NoNode, path, message);

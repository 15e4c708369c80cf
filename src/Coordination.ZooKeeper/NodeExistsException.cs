namespace Coordination.ZooKeeper;

/// <summary>The node already exists.</summary>
public sealed class NodeExistsException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.NodeExists, path, message);

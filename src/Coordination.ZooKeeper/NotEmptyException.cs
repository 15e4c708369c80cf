namespace Coordination.ZooKeeper;

/// <summary>The node has children and cannot be deleted.</summary>
public sealed class NotEmptyException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.NotEmpty, path, message);

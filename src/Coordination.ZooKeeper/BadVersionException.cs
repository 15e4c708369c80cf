namespace Coordination.ZooKeeper;

/// <summary>The expected version did not match the node's version.</summary>
public sealed class BadVersionException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.BadVersion, path, message);

namespace Coordination.ZooKeeper;

/// <summary>The session's identities are not allowed this operation by the node's ACL.</summary>
public sealed class NoAuthException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.NoAuth, path, message);

namespace Coordination.ZooKeeper;

/// <summary>The session expired; ephemeral nodes are gone and the client must be replaced.</summary>
public sealed class SessionExpiredException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.SessionExpired, path, message);

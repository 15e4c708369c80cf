namespace Coordination.ZooKeeper;

/// <summary>
/// The connection was lost before the operation's result was known (it may or may not have been applied),
/// or no server could be reached in time.
/// </summary>
public sealed class ConnectionLossException(string? path, string? message = null, Exception? innerException = null)
    : ZooKeeperException(ZooKeeperErrorCode.ConnectionLoss, path, message, innerException);

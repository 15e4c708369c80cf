namespace Coordination.ZooKeeper;

/// <summary>The operation got no answer within the client's operation timeout.</summary>
public sealed class OperationTimeoutException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.OperationTimeout, path, message);

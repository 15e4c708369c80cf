namespace Coordination.ZooKeeper;

/// <summary>A ZooKeeper operation failed with a server or connection error code.</summary>
public class ZooKeeperException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ZooKeeperException() : this(ZooKeeperErrorCode.SystemError, null, null) { }

    /// <summary>Creates the exception with a message.</summary>
    public ZooKeeperException(string message) : this(ZooKeeperErrorCode.SystemError, null, message) { }

    /// <summary>Creates the exception with a message and inner exception.</summary>
    public ZooKeeperException(string message, Exception innerException) : base(message, innerException) => Code = ZooKeeperErrorCode.SystemError;

    /// <summary>Creates the exception for <paramref name="code"/> on <paramref name="path"/>.</summary>
    public ZooKeeperException(ZooKeeperErrorCode code, string? path, string? message = null, Exception? innerException = null)
        : base(message ?? Describe(code, path), innerException)
    {
        Code = code;
        Path = path;
    }

    /// <summary>The server's error code.</summary>
    public ZooKeeperErrorCode Code { get; }

    /// <summary>The path the operation was on, if any.</summary>
    public string? Path { get; }

    /// <summary>For a failed multi: the result of every operation (the failed one and those rolled back).</summary>
    public IReadOnlyList<ZooKeeperOpResult>? MultiResults { get; internal set; }

    internal static string Describe(ZooKeeperErrorCode code, string? path) =>
        path is null ? $"ZooKeeper error {code} ({(int)code})." : $"ZooKeeper error {code} ({(int)code}) for '{path}'.";

    /// <summary>Creates the most specific exception type for <paramref name="code"/>.</summary>
    public static ZooKeeperException Create(ZooKeeperErrorCode code, string? path, string? message = null) => code switch
    {
        ZooKeeperErrorCode.NoNode => new NoNodeException(path, message),
        ZooKeeperErrorCode.NodeExists => new NodeExistsException(path, message),
        ZooKeeperErrorCode.BadVersion => new BadVersionException(path, message),
        ZooKeeperErrorCode.NotEmpty => new NotEmptyException(path, message),
        ZooKeeperErrorCode.NoAuth => new NoAuthException(path, message),
        ZooKeeperErrorCode.SessionExpired => new SessionExpiredException(path, message),
        ZooKeeperErrorCode.ConnectionLoss => new ConnectionLossException(path, message),
        ZooKeeperErrorCode.OperationTimeout => new OperationTimeoutException(path, message),
        _ => new ZooKeeperException(code, path, message),
    };
}

/// <summary>The node does not exist.</summary>
public sealed class NoNodeException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.NoNode, path, message);

/// <summary>The node already exists.</summary>
public sealed class NodeExistsException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.NodeExists, path, message);

/// <summary>The expected version did not match the node's version.</summary>
public sealed class BadVersionException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.BadVersion, path, message);

/// <summary>The node has children and cannot be deleted.</summary>
public sealed class NotEmptyException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.NotEmpty, path, message);

/// <summary>The session's identities are not allowed this operation by the node's ACL.</summary>
public sealed class NoAuthException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.NoAuth, path, message);

/// <summary>The session expired; ephemeral nodes are gone and the client must be replaced.</summary>
public sealed class SessionExpiredException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.SessionExpired, path, message);

/// <summary>
/// The connection was lost before the operation's result was known (it may or may not have been applied),
/// or no server could be reached in time.
/// </summary>
public sealed class ConnectionLossException(string? path, string? message = null, Exception? innerException = null)
    : ZooKeeperException(ZooKeeperErrorCode.ConnectionLoss, path, message, innerException);

/// <summary>The operation got no answer within the client's operation timeout.</summary>
public sealed class OperationTimeoutException(string? path, string? message = null) : ZooKeeperException(ZooKeeperErrorCode.OperationTimeout, path, message);

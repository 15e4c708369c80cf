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

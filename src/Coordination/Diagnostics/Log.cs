using Microsoft.Extensions.Logging;

namespace Coordination;

internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "ZooKeeper session 0x{SessionId:x} expired; a new session replaces it")]
    public static partial void SessionReplaced(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "{Problem}")]
    public static partial void ZooKeeperAccessDenied(ILogger logger, string problem);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "ZooKeeper now lets this session create nodes under '{Root}' again")]
    public static partial void ZooKeeperAccessRestored(ILogger logger, string root);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "{Problem}")]
    public static partial void RedisRefused(ILogger logger, string problem);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "Lock '{Key}' acquired (token {FencingToken}, mode {Mode})")]
    public static partial void LockAcquired(ILogger logger, string key, long fencingToken, Locks.LockMode mode);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Debug, Message = "Lock '{Key}' released (token {FencingToken})")]
    public static partial void LockReleased(ILogger logger, string key, long fencingToken);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Lock '{Key}' (token {FencingToken}) lost: {Reason}")]
    public static partial void LockLost(ILogger logger, string key, long fencingToken, string reason);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "Redis is unavailable; lock '{Key}' continues ZooKeeper-only (degraded)")]
    public static partial void RedisDegraded(ILogger logger, string key, Exception? exception);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Error, Message = "ZooKeeper is unavailable; lock '{Key}' is refused (fail closed)")]
    public static partial void ZooKeeperUnavailable(ILogger logger, string key, Exception? exception);

    [LoggerMessage(EventId = 2113, Level = LogLevel.Error, Message = "Lock '{Key}' is refused (fail closed): {Reason}")]
    public static partial void ZooKeeperDenied(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Critical, Message = "ZooKeeper is unavailable; lock '{Key}' is granted by Redis alone because UnsafeAllowRedisOnlyFallback is on")]
    public static partial void UnsafeFallback(ILogger logger, string key);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Warning, Message = "Releasing lock '{Key}' failed; the server side will clean up when the session or lease ends")]
    public static partial void ReleaseFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Information, Message = "Lock '{Key}' (token {FencingToken}) released; ZooKeeper did not answer at once, so its node is deleted in the background")]
    public static partial void ReleaseDeferred(ILogger logger, string key, long fencingToken);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Warning, Message = "Waited {Elapsed} so far for the {Primitive} '{Key}' (timeout {Timeout}) while holding {HeldByWaiter}; held by {Holder}")]
    public static partial void LongWait(ILogger logger, TimeSpan elapsed, string primitive, string key, string timeout, string heldByWaiter, string holder);

    [LoggerMessage(EventId = 2111, Level = LogLevel.Information, Message = "The long wait for the {Primitive} '{Key}' ended after {Elapsed}: {Outcome}")]
    public static partial void LongWaitEnded(ILogger logger, string primitive, string key, TimeSpan elapsed, string outcome);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Warning, Message = "Extending the Redis lease of lock '{Key}' failed")]
    public static partial void LeaseExtendFailed(ILogger logger, string key, Exception? exception);
}

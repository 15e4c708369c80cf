using Microsoft.Extensions.Logging;

namespace Coordination.ZooKeeper;

internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "ZooKeeper session 0x{SessionId:x} connected to {Server} (timeout {TimeoutMs} ms)")]
    public static partial void Connected(ILogger logger, long sessionId, string server, int timeoutMs);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "ZooKeeper connection to {Server} failed; trying the next server")]
    public static partial void ConnectFailed(ILogger logger, string server, Exception exception);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "ZooKeeper connection to {Server} lost (session 0x{SessionId:x}); reconnecting")]
    public static partial void ConnectionLost(ILogger logger, string server, long sessionId, Exception? exception);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "ZooKeeper session 0x{SessionId:x} expired")]
    public static partial void SessionExpired(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "A ZooKeeper watcher threw")]
    public static partial void WatcherFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "ZooKeeper server {Server} rejected the session's credentials (AuthFailed); the client stops")]
    public static partial void AuthFailed(ILogger logger, string server);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "ZooKeeper session 0x{SessionId:x} closed")]
    public static partial void Closed(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "No ZooKeeper server of {Servers} answered; retrying in {DelayMs} ms")]
    public static partial void AllServersFailed(ILogger logger, string servers, int delayMs);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Error, Message = "TLS connection to ZooKeeper server {Server} refused: {Reason}")]
    public static partial void CertificateRefused(ILogger logger, string server, string reason);
}

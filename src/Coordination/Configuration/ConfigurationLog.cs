using Microsoft.Extensions.Logging;

namespace Coordination.Configuration;

internal static partial class ConfigurationLog
{
    [LoggerMessage(EventId = 2301, Level = LogLevel.Information, Message = "Configuration '{Root}' loaded from ZooKeeper: {Count} keys, version {Version}")]
    public static partial void Loaded(ILogger logger, string root, int count, long version);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, Message = "Configuration '{Root}' is served from the Redis copy (version {Version}) because ZooKeeper is unreachable (degraded)")]
    public static partial void ServingCache(ILogger logger, string root, long version, Exception? exception);

    [LoggerMessage(EventId = 2303, Level = LogLevel.Error, Message = "Configuration '{Root}' starts empty: neither ZooKeeper nor the Redis copy could be read (optional source, unhealthy)")]
    public static partial void StartingEmpty(ILogger logger, string root, Exception? exception);

    [LoggerMessage(EventId = 2304, Level = LogLevel.Error, Message = "Malformed configuration node '{Path}': {Reason}; its last good value is kept")]
    public static partial void Malformed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 2305, Level = LogLevel.Debug, Message = "Configuration '{Root}' changed: {Count} keys, version {Version}")]
    public static partial void Changed(ILogger logger, string root, int count, long version);

    [LoggerMessage(EventId = 2306, Level = LogLevel.Warning, Message = "Reloading configuration '{Root}' from ZooKeeper failed; it is retried when the connection is back")]
    public static partial void ReloadFailed(ILogger logger, string root, Exception exception);

    [LoggerMessage(EventId = 2307, Level = LogLevel.Warning, Message = "Redis copy of configuration '{Root}' could not be read or written")]
    public static partial void CacheFailed(ILogger logger, string root, Exception exception);

    [LoggerMessage(EventId = 2308, Level = LogLevel.Error, Message = "A configuration change callback for '{Root}' threw")]
    public static partial void CallbackFailed(ILogger logger, string root, Exception exception);

    [LoggerMessage(EventId = 2309, Level = LogLevel.Information, Message = "Configuration '{Root}' refreshed from the Redis copy (version {Version}) while ZooKeeper is unreachable")]
    public static partial void RefreshedFromCache(ILogger logger, string root, long version);
}

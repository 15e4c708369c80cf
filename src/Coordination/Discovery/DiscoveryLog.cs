using Microsoft.Extensions.Logging;

namespace Coordination.Discovery;

internal static partial class DiscoveryLog
{
    [LoggerMessage(EventId = 2401, Level = LogLevel.Information, Message = "Registered instance '{InstanceId}' of service '{ServiceName}' at {Path} ({Endpoints})")]
    public static partial void Registered(ILogger logger, string serviceName, string instanceId, string path, string endpoints);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Information, Message = "Deregistered instance '{InstanceId}' of service '{ServiceName}'")]
    public static partial void Deregistered(ILogger logger, string serviceName, string instanceId);

    [LoggerMessage(EventId = 2403, Level = LogLevel.Warning, Message = "Registering instance '{InstanceId}' of service '{ServiceName}' failed; retrying")]
    public static partial void RegistrationFailed(ILogger logger, string serviceName, string instanceId, Exception exception);

    [LoggerMessage(EventId = 2404, Level = LogLevel.Warning, Message = "The ZooKeeper session was replaced; re-registering instance '{InstanceId}' of service '{ServiceName}'")]
    public static partial void Reregistering(ILogger logger, string serviceName, string instanceId);

    [LoggerMessage(EventId = 2405, Level = LogLevel.Information, Message = "Registration of instance '{InstanceId}' of service '{ServiceName}' is withheld: health is {Status}")]
    public static partial void WithheldUntilHealthy(ILogger logger, string serviceName, string instanceId, string status);

    [LoggerMessage(EventId = 2406, Level = LogLevel.Warning, Message = "Deregistering instance '{InstanceId}' of service '{ServiceName}' failed; the node goes when the session ends")]
    public static partial void DeregistrationFailed(ILogger logger, string serviceName, string instanceId, Exception exception);

    [LoggerMessage(EventId = 2407, Level = LogLevel.Information, Message = "Instance '{InstanceId}' of service '{ServiceName}' now reports status {Status}")]
    public static partial void StatusChanged(ILogger logger, string serviceName, string instanceId, string status);

    [LoggerMessage(EventId = 2410, Level = LogLevel.Debug, Message = "Service '{ServiceName}' now has {Count} instance(s)")]
    public static partial void InstancesChanged(ILogger logger, string serviceName, int count);

    [LoggerMessage(EventId = 2411, Level = LogLevel.Warning, Message = "Watching service '{ServiceName}' in ZooKeeper failed; retrying in {Delay}")]
    public static partial void WatchFailed(ILogger logger, string serviceName, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 2412, Level = LogLevel.Warning, Message = "Instance node '{Path}' holds no valid registration; it is ignored")]
    public static partial void MalformedInstance(ILogger logger, string path);

    [LoggerMessage(EventId = 2413, Level = LogLevel.Debug, Message = "Sharing the instance list of service '{ServiceName}' in Redis failed")]
    public static partial void RedisWriteFailed(ILogger logger, string serviceName, Exception exception);

    [LoggerMessage(EventId = 2414, Level = LogLevel.Warning, Message = "ZooKeeper did not answer a cold lookup of service '{ServiceName}' in time; answering from the Redis copy (zxid {Zxid})")]
    public static partial void AnsweredFromRedis(ILogger logger, string serviceName, long zxid);

    [LoggerMessage(EventId = 2415, Level = LogLevel.Debug, Message = "Reading the Redis copy of service '{ServiceName}' failed")]
    public static partial void RedisReadFailed(ILogger logger, string serviceName, Exception exception);

    [LoggerMessage(EventId = 2416, Level = LogLevel.Error, Message = "An InstancesChanged handler for service '{ServiceName}' threw")]
    public static partial void HandlerFailed(ILogger logger, string serviceName, Exception exception);
}

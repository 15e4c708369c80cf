using Microsoft.Extensions.Logging;

namespace Coordination.AspNetCore.Middleware;

/// <summary>Source-generated log messages of the endpoint integration; event ids 5100-5199 are stable.</summary>
internal static partial class Log
{
    [LoggerMessage(5100, LogLevel.Debug, "Acquired distributed lock '{Key}' (fencing token {FencingToken}) for endpoint '{Endpoint}'.")]
    public static partial void LockAcquired(ILogger logger, string key, long fencingToken, string? endpoint);

    [LoggerMessage(5101, LogLevel.Information, "Distributed lock '{Key}' is held elsewhere; endpoint '{Endpoint}' answered {StatusCode} after waiting {Timeout}.")]
    public static partial void LockContended(ILogger logger, string key, string? endpoint, int statusCode, TimeSpan timeout);

    [LoggerMessage(5102, LogLevel.Warning, "Distributed lock backend unavailable for key '{Key}' on endpoint '{Endpoint}'; the request was refused (fail closed).")]
    public static partial void LockUnavailable(ILogger logger, Exception exception, string key, string? endpoint);

    [LoggerMessage(5103, LogLevel.Debug, "Request to endpoint '{Endpoint}' does not supply {Placeholder} for lock key template '{Template}'.")]
    public static partial void PlaceholderMissing(ILogger logger, string? endpoint, string placeholder, string template);

    [LoggerMessage(5104, LogLevel.Warning, "Distributed lock '{Key}' was lost while endpoint '{Endpoint}' was running; RequestAborted was signalled.")]
    public static partial void LockLost(ILogger logger, string key, string? endpoint);

    [LoggerMessage(5105, LogLevel.Warning, "Releasing distributed lock '{Key}' failed; it expires with its session or lease.")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(5106, LogLevel.Debug, "Client went away while endpoint '{Endpoint}' waited for distributed lock '{Key}'.")]
    public static partial void WaitAborted(ILogger logger, string? endpoint, string key);

    [LoggerMessage(5107, LogLevel.Information, "Lock key for endpoint '{Endpoint}' was rejected by the lock provider: {Reason}")]
    public static partial void InvalidKey(ILogger logger, string? endpoint, string reason);

    [LoggerMessage(5108, LogLevel.Warning, "A permit of the distributed concurrency limiter '{Key}' (fencing token {FencingToken}) was lost while request '{Path}' was running; RequestAborted was signalled.")]
    public static partial void PermitLost(ILogger logger, string key, long fencingToken, string? path);
}

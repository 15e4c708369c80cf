using Microsoft.Extensions.Logging;

namespace Coordination.Hangfire;

/// <summary>Source-generated log messages of the Hangfire integration (event ids 6000-6099).</summary>
internal static partial class Log
{
    [LoggerMessage(6000, LogLevel.Debug, "Job {JobId} acquired lock '{Key}' (fencing token {FencingToken}).")]
    public static partial void Acquired(ILogger logger, string jobId, string key, long fencingToken);

    [LoggerMessage(6001, LogLevel.Information, "Job {JobId} found lock '{Key}' held; contention behaviour {Contention}.")]
    public static partial void Contended(ILogger logger, string jobId, string key, LockContention contention);

    [LoggerMessage(6002, LogLevel.Warning, "Job {JobId} could not acquire lock '{Key}': the lock backend is unavailable; the job fails and will be retried.")]
    public static partial void Unavailable(ILogger logger, Exception exception, string jobId, string key);

    [LoggerMessage(6003, LogLevel.Warning, "Job {JobId} lost lock '{Key}' while running; cancelling the job and moving it to Failed.")]
    public static partial void Lost(ILogger logger, string jobId, string key);

    [LoggerMessage(6004, LogLevel.Warning, "Job {JobId}: releasing lock '{Key}' failed; it will expire with its lease or session.")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string jobId, string key);

    [LoggerMessage(6005, LogLevel.Warning, "Job {JobId}: moving the job out of Processing after losing lock '{Key}' failed.")]
    public static partial void LostStateChangeFailed(ILogger logger, Exception exception, string jobId, string key);

    [LoggerMessage(6006, LogLevel.Debug, "Job {JobId} released lock '{Key}'.")]
    public static partial void Released(ILogger logger, string jobId, string key);

    [LoggerMessage(6007, LogLevel.Information, "Job {JobId} skipped: recurring job '{RecurringJobId}' already ran at {StartedAt:O}, after this run was triggered.")]
    public static partial void Coalesced(ILogger logger, string jobId, string recurringJobId, DateTime startedAt);
}

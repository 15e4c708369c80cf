using Microsoft.Extensions.Logging;

namespace Coordination.Hangfire;

/// <summary>Options for <c>UseHybridCoordination()</c>: defaults for jobs whose attribute leaves them unset, and global locking.</summary>
public sealed class HangfireCoordinationOptions
{
    /// <summary>How long a <see cref="LockContention.Fail"/> job (the default of <c>[DistributedLock]</c>) waits for its lock when the attribute sets no timeout. Default 30 s.</summary>
    public TimeSpan DefaultWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a <see cref="LockContention.Reschedule"/> job waits before the next attempt when the attribute sets no delay. Default 30 s.</summary>
    public TimeSpan DefaultRescheduleDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Run every job, including jobs without an attribute, under a lock keyed by its type and method
    /// (<c>hangfire:&lt;type&gt;.&lt;method&gt;</c>), using <see cref="EveryJobContention"/>. Off by default.
    /// </summary>
    public bool LockEveryJob { get; set; }

    /// <summary>The contention behaviour of jobs locked only because of <see cref="LockEveryJob"/>. Default <see cref="LockContention.Fail"/>: wait <see cref="DefaultWaitTimeout"/>, then fail.</summary>
    public LockContention EveryJobContention { get; set; } = LockContention.Fail;

    /// <summary>Where the filters log; resolved from DI by the <see cref="IServiceProvider"/> overload when unset.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (DefaultWaitTimeout < TimeSpan.Zero && DefaultWaitTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultWaitTimeout), DefaultWaitTimeout, $"{nameof(DefaultWaitTimeout)} '{DefaultWaitTimeout}' must be zero, positive or infinite.");
        }

        if (DefaultRescheduleDelay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultRescheduleDelay), DefaultRescheduleDelay, $"{nameof(DefaultRescheduleDelay)} '{DefaultRescheduleDelay}' must be positive.");
        }

        if (!Enum.IsDefined(EveryJobContention))
        {
            throw new ArgumentOutOfRangeException(nameof(EveryJobContention), EveryJobContention, $"{nameof(EveryJobContention)} '{EveryJobContention}' is not a LockContention value.");
        }
    }
}

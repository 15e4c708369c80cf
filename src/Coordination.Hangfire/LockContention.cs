namespace Coordination.Hangfire;

/// <summary>What a job does when its lock is held by another job (or cannot be acquired within the timeout).</summary>
public enum LockContention
{
    /// <summary>Wait up to the timeout for the lock; if it is still held then, the job fails and Hangfire's retry applies.</summary>
    Wait = 0,

    /// <summary>Do not run: the job ends Deleted with the reason <c>skipped: lock '&lt;key&gt;' held</c>.</summary>
    Skip = 1,

    /// <summary>Do not run now: the job goes back to Scheduled after the reschedule delay, with the reason stated.</summary>
    Reschedule = 2,

    /// <summary>Fail the attempt with <see cref="JobLockNotAcquiredException"/> so Hangfire's normal retry applies.</summary>
    Fail = 3,
}

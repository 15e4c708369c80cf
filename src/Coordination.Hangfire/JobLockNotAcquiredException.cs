namespace Coordination.Hangfire;

/// <summary>
/// The job's lock was still held by another job after the wait timeout and the contention behaviour is
/// <see cref="LockContention.Fail"/> (the default of <c>[DistributedLock]</c>). The attempt fails so that Hangfire's retry applies; the job did not run.
/// </summary>
public sealed class JobLockNotAcquiredException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JobLockNotAcquiredException() : base("The job's distributed lock is held by another job.") { }

    /// <summary>Creates the exception with a message.</summary>
    public JobLockNotAcquiredException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public JobLockNotAcquiredException(string message, Exception innerException) : base(message, innerException) { }
}

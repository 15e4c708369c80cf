namespace Coordination.Hangfire;

/// <summary>
/// The job's distributed lock could no longer be trusted while the job ran (session expired, lease not extended).
/// The job's cancellation token fired and the job was moved to Failed with this exception, so retry applies.
/// </summary>
public sealed class JobLockLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JobLockLostException() : base("The job's distributed lock was lost while the job ran.") { }

    /// <summary>Creates the exception with a message.</summary>
    public JobLockLostException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public JobLockLostException(string message, Exception innerException) : base(message, innerException) { }
}

using Coordination.Locks;

namespace Coordination.Hangfire;

/// <summary>
/// The distributed lock the current Hangfire job runs under: its key, fencing token and cancellation signals.
/// Read it inside the job through <see cref="Current"/> or <c>PerformContext.GetJobLock()</c>, for example to pass
/// <see cref="FencingToken"/> to storage that rejects stale writers.
/// </summary>
public sealed class JobLockContext
{
    private static readonly AsyncLocal<JobLockContext?> CurrentSlot = new();

    internal JobLockContext(IDistributedLockHandle handle, string jobId, CancellationToken jobToken)
    {
        Handle = handle;
        JobId = jobId;
        Linked = CancellationTokenSource.CreateLinkedTokenSource(jobToken, handle.LostToken);
    }

    /// <summary>The lock of the job running on this async flow, or <see langword="null"/> outside a locked job.</summary>
    public static JobLockContext? Current
    {
        get => CurrentSlot.Value;
        internal set => CurrentSlot.Value = value;
    }

    /// <summary>The expanded lock key.</summary>
    public string Key => Handle.Key;

    /// <summary>The fencing token of this acquisition; it grows strictly with every new holder of <see cref="Key"/>.</summary>
    public long FencingToken => Handle.FencingToken;

    /// <summary>When the lock was granted (UTC).</summary>
    public DateTimeOffset AcquiredAt => Handle.AcquiredAt;

    /// <summary>The lock mode that granted the lock.</summary>
    public LockMode Mode => Handle.Mode;

    /// <summary>The Hangfire background job id.</summary>
    public string JobId { get; }

    /// <summary>Fires when the lock can no longer be trusted; the job's own cancellation token fires too.</summary>
    public CancellationToken LostToken => Handle.LostToken;

    /// <summary>Fires when the lock is lost or the job is cancelled (server shutdown, job deleted).</summary>
    public CancellationToken CancellationToken => Linked.Token;

    internal IDistributedLockHandle Handle { get; }

    internal CancellationTokenSource Linked { get; }

    internal object? Owner { get; set; }

    internal CancellationTokenRegistration LostRegistration { get; set; }
}

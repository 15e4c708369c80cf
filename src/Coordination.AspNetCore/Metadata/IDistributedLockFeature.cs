using Coordination.Locks;

namespace Coordination.AspNetCore;

/// <summary>
/// The lock a request holds, available to handlers as <c>HttpContext.Features.Get&lt;IDistributedLockFeature&gt;()</c>
/// while the request runs inside <c>[DistributedLock]</c> or <c>.WithDistributedLock(...)</c>.
/// </summary>
public interface IDistributedLockFeature
{
    /// <summary>The expanded lock key.</summary>
    string Key { get; }

    /// <summary>The fencing token of this holder; pass it to storage that rejects writes from stale holders.</summary>
    long FencingToken { get; }

    /// <summary>When the lock was granted (UTC).</summary>
    DateTimeOffset AcquiredAt { get; }

    /// <summary>The lock mode that granted the lock.</summary>
    LockMode Mode { get; }

    /// <summary>Fires when the lock can no longer be trusted; <c>HttpContext.RequestAborted</c> fires too.</summary>
    CancellationToken LostToken { get; }
}

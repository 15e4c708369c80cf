namespace Coordination.Locks;

/// <summary>
/// A held distributed lock. Disposing it releases the lock; releasing a lock that was already lost is harmless.
/// A nested handle (the async flow already held the key) shares the outer handle's token and lost signal; the lock is
/// released when the last of the flow's handles of it is disposed, in whatever order.
/// </summary>
public interface IDistributedLockHandle : IAsyncDisposable
{
    /// <summary>The key the lock was acquired for, as the caller passed it.</summary>
    string Key { get; }

    /// <summary>
    /// A 64-bit token that grows strictly with every new holder of <see cref="Key"/>, across processes and
    /// restarts. Pass it to storage that rejects writes carrying a smaller token than one it has seen.
    /// </summary>
    long FencingToken { get; }

    /// <summary>
    /// Fires when the lock can no longer be trusted: session expired, connection suspended past a safe
    /// bound, lock node deleted, or the lease could not be extended.
    /// </summary>
    CancellationToken LostToken { get; }

    /// <summary>When the lock was granted (UTC).</summary>
    DateTimeOffset AcquiredAt { get; }

    /// <summary>The mode that granted the lock.</summary>
    LockMode Mode { get; }
}

namespace Coordination.Locks;

/// <summary>
/// Acquires named distributed locks. The default implementation is the hybrid Redis + ZooKeeper lock;
/// the mode is chosen by <see cref="HybridCoordinationOptions.Mode"/>.
/// </summary>
public interface IDistributedLockProvider
{
    /// <summary>
    /// Tries to acquire the lock named <paramref name="key"/>, waiting at most <paramref name="timeout"/>
    /// (<see cref="TimeSpan.Zero"/> tries once). Returns <see langword="null"/> when the lock stayed taken.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The lock backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>
    /// Acquires the lock named <paramref name="key"/>, waiting at most <paramref name="timeout"/>
    /// (<see langword="null"/> waits forever).
    /// </summary>
    /// <exception cref="TimeoutException">The lock was not acquired within <paramref name="timeout"/>.</exception>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The lock backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);
}

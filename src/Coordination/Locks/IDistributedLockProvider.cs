namespace Coordination.Locks;

/// <summary>
/// Acquires named distributed locks. The default implementation is the hybrid Redis + ZooKeeper lock;
/// the mode is chosen by <see cref="HybridCoordinationOptions.Mode"/>.
/// </summary>
/// <remarks>
/// Re-entrant per async flow (<see cref="HybridCoordinationOptions.ReentrantLocks"/>, on by default): a flow that holds
/// a key and asks for it again, directly or through an endpoint, a job or a [Singleton] method, gets a nested handle at
/// once, with the same fencing token and lost signal; the lock is released when its last handle is disposed. A flow
/// forked while the lock is held (Task.Run, an un-awaited call) shares it; other flows, processes and flows started
/// under <see cref="ExecutionContext.SuppressFlow"/> are excluded as always. The hold belongs to the method that calls
/// the provider: an async helper that awaits the acquire and returns the handle ends it when it returns.
/// </remarks>
public interface IDistributedLockProvider
{
    /// <summary>
    /// Tries to acquire the lock named <paramref name="key"/>, waiting at most <paramref name="timeout"/>
    /// (<see cref="TimeSpan.Zero"/> tries once). Returns <see langword="null"/> when the lock stayed taken.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The lock backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    /// <exception cref="LockRecursionException">This async flow holds the lock and <see cref="HybridCoordinationOptions.ReentrantLocks"/> is off.</exception>
    ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>
    /// Acquires the lock named <paramref name="key"/>, waiting at most <paramref name="timeout"/>
    /// (<see langword="null"/> waits forever).
    /// </summary>
    /// <exception cref="TimeoutException">The lock was not acquired within <paramref name="timeout"/>.</exception>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The lock backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    /// <exception cref="LockRecursionException">This async flow holds the lock and <see cref="HybridCoordinationOptions.ReentrantLocks"/> is off.</exception>
    ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);
}

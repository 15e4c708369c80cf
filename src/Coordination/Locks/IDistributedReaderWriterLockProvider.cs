namespace Coordination.Locks;

/// <summary>
/// Acquires named distributed reader-writer locks: readers of a key share it, a writer excludes readers and writers,
/// and waiters are served in arrival order, so a waiting writer is not starved by a stream of readers. Same engine,
/// modes and guarantees as <see cref="IDistributedLockProvider"/>.
/// </summary>
/// <remarks>
/// Re-entrant per async flow, without upgrade (as <see cref="IDistributedLockProvider"/>): a flow holding the write lock
/// may take the write or the read lock of the same key again (a nested handle, no queueing, no remote work); a flow
/// holding the read lock may take the read lock again, even while a writer waits, but asking for the write lock fails
/// at once with <see cref="LockRecursionException"/> (waiting would deadlock on its own read lock; Curator and
/// Redisson refuse the upgrade too): release the read lock first, or take the write lock from the start.
/// </remarks>
public interface IDistributedReaderWriterLockProvider
{
    /// <summary>
    /// Tries to take the read lock of <paramref name="key"/>, waiting at most <paramref name="timeout"/>
    /// (<see cref="TimeSpan.Zero"/> tries once); <see langword="null"/> when a writer held or waited throughout.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    ValueTask<IDistributedLockHandle?> TryAcquireReadAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>Takes the read lock of <paramref name="key"/>, waiting at most <paramref name="timeout"/> (<see langword="null"/> waits forever).</summary>
    /// <exception cref="TimeoutException">The read lock was not granted within <paramref name="timeout"/>.</exception>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    ValueTask<IDistributedLockHandle> AcquireReadAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tries to take the write lock of <paramref name="key"/>, waiting at most <paramref name="timeout"/>
    /// (<see cref="TimeSpan.Zero"/> tries once); <see langword="null"/> when a reader or writer stayed ahead.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    /// <exception cref="LockRecursionException">This async flow holds the read lock of <paramref name="key"/> (no upgrade).</exception>
    ValueTask<IDistributedLockHandle?> TryAcquireWriteAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>Takes the write lock of <paramref name="key"/>, waiting at most <paramref name="timeout"/> (<see langword="null"/> waits forever).</summary>
    /// <exception cref="TimeoutException">The write lock was not granted within <paramref name="timeout"/>.</exception>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    /// <exception cref="LockRecursionException">This async flow holds the read lock of <paramref name="key"/> (no upgrade).</exception>
    ValueTask<IDistributedLockHandle> AcquireWriteAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);
}

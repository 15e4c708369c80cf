namespace Coordination.Locks;

/// <summary>
/// Acquires named distributed reader-writer locks: readers of a key share it, a writer excludes readers and writers,
/// and waiters are served in arrival order, so a waiting writer is not starved by a stream of readers. Same engine,
/// modes and guarantees as <see cref="IDistributedLockProvider"/>.
/// </summary>
/// <remarks>
/// Not re-entrant and no upgrade: a read holder that asks for the write lock of the same key queues behind its own
/// read lock and times out; release the read lock first (Curator and Redisson behave the same way).
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
    ValueTask<IDistributedLockHandle?> TryAcquireWriteAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>Takes the write lock of <paramref name="key"/>, waiting at most <paramref name="timeout"/> (<see langword="null"/> waits forever).</summary>
    /// <exception cref="TimeoutException">The write lock was not granted within <paramref name="timeout"/>.</exception>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="LockUnavailableException">The backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    ValueTask<IDistributedLockHandle> AcquireWriteAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default);
}

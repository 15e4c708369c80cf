namespace Coordination.Locks;

/// <summary>
/// Acquires permits of named distributed semaphores: at most <c>maxCount</c> holders of a key at once across every
/// process, on the same engine, modes and guarantees as <see cref="IDistributedLockProvider"/> (FIFO waiters, fencing
/// tokens, <see cref="IDistributedLockHandle.LostToken"/>). Every contender of one key must pass the same count.
/// </summary>
/// <remarks>
/// Permits are not re-entrant: every acquire takes a permit of its own, also from an async flow that already holds one
/// (a flow holding all permits and asking again waits for itself until its timeout; the long-wait warning says so).
/// </remarks>
public interface IDistributedSemaphoreProvider
{
    /// <summary>
    /// Tries to take one of the <paramref name="maxCount"/> permits of <paramref name="key"/>, waiting at most
    /// <paramref name="timeout"/> (<see cref="TimeSpan.Zero"/> tries once). Returns <see langword="null"/> when all
    /// permits stayed taken; dispose the handle to give the permit back.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below one, or the timeout is negative.</exception>
    /// <exception cref="InvalidOperationException">The key is in use with another <paramref name="maxCount"/>.</exception>
    /// <exception cref="LockUnavailableException">The backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes one of the <paramref name="maxCount"/> permits of <paramref name="key"/>, waiting at most
    /// <paramref name="timeout"/> (<see langword="null"/> waits forever).
    /// </summary>
    /// <exception cref="TimeoutException">No permit was granted within <paramref name="timeout"/>.</exception>
    /// <exception cref="ArgumentException">The key is empty, too long or contains control characters.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is below one, or the timeout is negative.</exception>
    /// <exception cref="InvalidOperationException">The key is in use with another <paramref name="maxCount"/>.</exception>
    /// <exception cref="LockUnavailableException">The backend cannot decide ownership (fail closed).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired while waiting.</exception>
    ValueTask<IDistributedLockHandle> AcquireAsync(string key, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default);
}

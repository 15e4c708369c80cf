using Coordination.Keys;

namespace Coordination.Locks;

/// <summary>
/// The public face every provider shares: the lock, semaphore and reader-writer entry points validate their input
/// (key, timeout, permit count) and map to one <see cref="LockShape"/> acquisition, so each mode implements a single
/// acquire and every primitive gets the same rules and messages.
/// </summary>
internal abstract class LockPrimitives(int maxKeyLength) : IDistributedLockProvider, IDistributedSemaphoreProvider, IDistributedReaderWriterLockProvider
{
    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireAsync(key, LockShape.Mutex, timeout, cancellationToken);

    public ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireAsync(key, LockShape.Mutex, timeout, cancellationToken);

    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        LockShape.ValidatePermits(maxCount);
        return TryAcquireAsync(key, LockShape.Semaphore(maxCount), timeout, cancellationToken);
    }

    public ValueTask<IDistributedLockHandle> AcquireAsync(string key, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        LockShape.ValidatePermits(maxCount);
        return AcquireAsync(key, LockShape.Semaphore(maxCount), timeout, cancellationToken);
    }

    public ValueTask<IDistributedLockHandle?> TryAcquireReadAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireAsync(key, LockShape.Read, timeout, cancellationToken);

    public ValueTask<IDistributedLockHandle> AcquireReadAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireAsync(key, LockShape.Read, timeout, cancellationToken);

    public ValueTask<IDistributedLockHandle?> TryAcquireWriteAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireAsync(key, LockShape.Write, timeout, cancellationToken);

    public ValueTask<IDistributedLockHandle> AcquireWriteAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireAsync(key, LockShape.Write, timeout, cancellationToken);

    private async ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, LockShape shape, TimeSpan timeout, CancellationToken cancellationToken)
    {
        LockKey.Validate(key, maxKeyLength);
        LockTimeouts.Validate(timeout);
        return await AcquireCoreAsync(key, shape, LockTimeouts.Normalize(timeout), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<IDistributedLockHandle> AcquireAsync(string key, LockShape shape, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        LockKey.Validate(key, maxKeyLength);
        LockTimeouts.Validate(timeout);
        var handle = await AcquireCoreAsync(key, shape, LockTimeouts.Normalize(timeout), cancellationToken).ConfigureAwait(false);
        return handle ?? throw LockTimeouts.TimedOut(key, timeout, shape);
    }

    /// <summary>Acquires <paramref name="shape"/> of a validated key within <paramref name="timeout"/> (null = no limit, zero = try once); null when not granted.</summary>
    protected abstract ValueTask<IDistributedLockHandle?> AcquireCoreAsync(string key, LockShape shape, TimeSpan? timeout, CancellationToken ct);
}

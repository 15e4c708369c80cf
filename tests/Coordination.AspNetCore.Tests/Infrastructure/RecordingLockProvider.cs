using Coordination.Locks;

namespace Coordination.AspNetCore.Tests.Infrastructure;

/// <summary>Wraps the real provider and counts acquisition attempts, so tests can wait until requests are queued on a lock.</summary>
internal sealed class RecordingLockProvider(IDistributedLockProvider inner) : IDistributedLockProvider
{
    private int _attempts;

    public int Attempts => Volatile.Read(ref _attempts);

    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _attempts);
        return inner.TryAcquireAsync(key, timeout, cancellationToken);
    }

    public ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _attempts);
        return inner.AcquireAsync(key, timeout, cancellationToken);
    }
}

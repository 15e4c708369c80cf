using System.Diagnostics;
using Coordination.Diagnostics;
using Coordination.Keys;

namespace Coordination.Locks;

/// <summary>
/// The part every remote mode shares: validation, the per-process FIFO queue (one remote contender per key and
/// process), the acquire activity and metrics. Subclasses implement the remote protocol for the time that is left.
/// </summary>
internal abstract class QueuedLockProvider(int maxKeyLength, LockMode mode) : IDistributedLockProvider
{
    private readonly LocalLockQueue _local = new();

    internal LocalLockQueue LocalQueue => _local;

    public async ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        LockKey.Validate(key, maxKeyLength);
        LockTimeouts.Validate(timeout);
        return await AcquireCoreAsync(key, LockTimeouts.Normalize(timeout), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        LockKey.Validate(key, maxKeyLength);
        LockTimeouts.Validate(timeout);
        var handle = await AcquireCoreAsync(key, LockTimeouts.Normalize(timeout), cancellationToken).ConfigureAwait(false);
        return handle ?? throw LockTimeouts.TimedOut(key, timeout);
    }

    /// <summary>Acquires remotely within <paramref name="remaining"/> (null = no limit, zero = try once); null when not granted.</summary>
    protected abstract ValueTask<LockHandle?> AcquireRemoteAsync(string key, TimeSpan? remaining, CancellationToken cancellationToken);

    protected abstract void ThrowIfDisposed();

    private async ValueTask<IDistributedLockHandle?> AcquireCoreAsync(string key, TimeSpan? timeout, CancellationToken ct)
    {
        ThrowIfDisposed();
        using var activity = CoordinationDiagnostics.ActivitySource.StartActivity("coordination.lock.acquire");
        activity?.SetTag("coordination.lock.key", key);
        activity?.SetTag("coordination.lock.mode", mode.ToString());
        var start = Stopwatch.GetTimestamp();
        var releaser = await _local.EnterAsync(key, timeout, ct).ConfigureAwait(false);
        if (releaser is null)
        {
            CoordinationDiagnostics.Contentions.Add(1, CoordinationDiagnostics.ModeTag(mode));
            activity?.SetTag("coordination.lock.acquired", false);
            return null;
        }

        try
        {
            var remaining = timeout is { } t ? t - Stopwatch.GetElapsedTime(start) : (TimeSpan?)null;
            if (remaining < TimeSpan.Zero)
            {
                remaining = TimeSpan.Zero;
            }

            var handle = await AcquireRemoteAsync(key, remaining, ct).ConfigureAwait(false);
            if (handle is null)
            {
                releaser.Dispose();
                activity?.SetTag("coordination.lock.acquired", false);
                return null;
            }

            handle.AttachLocal(releaser);
            activity?.SetTag("coordination.lock.acquired", true);
            activity?.SetTag("coordination.lock.fencing_token", handle.FencingToken);
            CoordinationDiagnostics.AcquireDuration.Record(Stopwatch.GetElapsedTime(start).TotalMilliseconds, CoordinationDiagnostics.ModeTag(handle.Mode));
            return handle;
        }
        catch
        {
            releaser.Dispose();
            throw;
        }
    }
}

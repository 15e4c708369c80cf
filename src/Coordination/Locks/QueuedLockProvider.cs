using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Coordination.Diagnostics;

namespace Coordination.Locks;

/// <summary>
/// The part every remote mode shares, for the lock, semaphores and reader-writer locks alike (one engine, the
/// <see cref="LockShape"/> says which): validation, the per-process FIFO queue (one remote contender per key and
/// process and permit), the acquire activity and metrics, the set of granted handles with the lease watchdog that runs every
/// third of <see cref="HybridCoordinationOptions.RedisLease"/> while any is held, and disposal (held locks are
/// released). Subclasses implement the remote protocol for the time that is left and what a watchdog tick does.
/// </summary>
internal abstract class QueuedLockProvider(HybridCoordinationOptions options, LockMode mode, TimeProvider time)
    : LockPrimitives(options, mode), IAsyncDisposable, IDisposable
{
    private readonly TimeSpan _renewEvery = options.RedisLease / 3;
    private readonly LocalLockQueue _local = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _watchdog;

    internal LocalLockQueue LocalQueue => _local;

    /// <summary>Granted, not yet released handles.</summary>
    protected ConcurrentDictionary<LockHandle, byte> Active { get; } = new();

    /// <summary>Fires when the provider is disposed; background waits stop on it.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Acquires <paramref name="shape"/> remotely within <paramref name="remaining"/> (null = no limit, zero = try once); null when not granted.</summary>
    protected abstract ValueTask<LockHandle?> AcquireRemoteAsync(string key, LockShape shape, TimeSpan? remaining, CancellationToken cancellationToken);

    /// <summary>One watchdog tick over the handles still held.</summary>
    protected abstract Task RenewLeasesAsync(IReadOnlyList<LockHandle> handles);

    /// <summary>Disposal after every held lock was released and the watchdog stopped.</summary>
    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);

    protected override bool IsDisposed => _stop.IsCancellationRequested;

    internal override bool HoldsInProcess(string key, LockShape shape) =>
        Active.Keys.Any(h => !h.IsReleased && h.Key == key && h.Shape.Collection == shape.Collection);

    /// <summary>Records a granted handle; <paramref name="renewLease"/> starts the watchdog if it is not running.</summary>
    protected void Track(LockHandle handle, bool renewLease)
    {
        Active[handle] = 0;
        if (renewLease && _watchdog is null)
        {
            lock (Active)
            {
                _watchdog ??= Task.Run(WatchdogAsync);
            }
        }
    }

    protected void Untrack(LockHandle handle) => Active.TryRemove(handle, out _);

    private async Task WatchdogAsync()
    {
        using var timer = new PeriodicTimer(_renewEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var held = Active.Keys.Where(h => !h.IsReleased).ToList();
                if (held.Count > 0)
                {
                    var started = Stopwatch.GetTimestamp();
                    await RenewLeasesAsync(held).ConfigureAwait(false);
                    CoordinationDiagnostics.RenewalDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, CoordinationDiagnostics.ModeTag(Mode));
                    CoordinationDiagnostics.Renewals.Add(held.Count, CoordinationDiagnostics.ModeTag(Mode));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<IDistributedLockHandle?> AcquireCoreAsync(string key, LockShape shape, TimeSpan? timeout, CancellationToken ct)
    {
        ThrowIfDisposed();
        using var activity = CoordinationDiagnostics.ActivitySource.StartActivity("coordination.lock.acquire");
        activity?.SetTag("coordination.lock.key", key);
        activity?.SetTag("coordination.lock.mode", Mode.ToString());
        if (shape.Kind != LockKind.Mutex)
        {
            activity?.SetTag("coordination.lock.kind", shape.Name);
        }

        var start = Stopwatch.GetTimestamp();
        var releaser = await _local.EnterAsync(shape.LocalKey(key), shape, timeout, ct).ConfigureAwait(false);
        if (releaser is null)
        {
            CoordinationDiagnostics.Contentions.Add(1, Mode, key, shape);
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

            var handle = await AcquireRemoteAsync(key, shape, remaining, ct).ConfigureAwait(false);
            if (handle is null)
            {
                releaser.Dispose();
                activity?.SetTag("coordination.lock.acquired", false);
                return null;
            }

            handle.AttachLocal(releaser);
            activity?.SetTag("coordination.lock.acquired", true);
            activity?.SetTag("coordination.lock.fencing_token", handle.FencingToken);
            CoordinationDiagnostics.AcquireDuration.Record(Stopwatch.GetElapsedTime(start).TotalMilliseconds, handle.Mode, key, shape);
            return handle;
        }
        catch
        {
            releaser.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        foreach (var h in Active.Keys.ToList())
        {
            await h.DisposeAsync().ConfigureAwait(false);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_watchdog is { } w)
        {
            await w.ConfigureAwait(false);
        }

        await DisposeCoreAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        // Containers disposed synchronously still release locks and close the session (bounded, never hangs).
        _ = DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
    }
}

using System.Diagnostics;
using Coordination.Diagnostics;

namespace Coordination.Locks;

/// <summary>
/// A granted remote lock. Release runs once (further disposals are no-ops); <see cref="MarkLost"/> fires
/// <see cref="LostToken"/> off the caller's thread so user callbacks never run on a client's event loop.
/// </summary>
internal sealed class LockHandle : IDistributedLockHandle
{
    private readonly CancellationTokenSource _lost = new();
    private readonly Func<LockHandle, ValueTask> _release;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private LocalLockQueue.Releaser? _local;
    private int _released;
    private int _lostFlag;

    public LockHandle(string key, long fencingToken, LockMode mode, DateTimeOffset acquiredAt, string ownerId, Func<LockHandle, ValueTask> release)
    {
        Key = key;
        FencingToken = fencingToken;
        Mode = mode;
        AcquiredAt = acquiredAt;
        OwnerId = ownerId;
        _release = release;
    }

    public string Key { get; }

    public long FencingToken { get; }

    public CancellationToken LostToken => _lost.Token;

    public DateTimeOffset AcquiredAt { get; }

    public LockMode Mode { get; }

    public string OwnerId { get; }

    /// <summary>What was granted: the lock, a semaphore permit, a read or a write lock.</summary>
    public LockShape Shape { get; init; } = LockShape.Mutex;

    /// <summary>ZooKeeper node path (hybrid and ZooKeeper-only modes).</summary>
    public string? NodePath { get; init; }

    /// <summary>The ZooKeeper session the node lives on (hybrid and ZooKeeper-only modes).</summary>
    public ZooKeeper.ZooKeeperClient? Session { get; init; }

    /// <summary>The Redis record's value (owner id + metadata), re-asserted by the watchdog.</summary>
    public string? RedisValue { get; set; }

    public bool IsReleased => Volatile.Read(ref _released) != 0;

    public bool IsLost => Volatile.Read(ref _lostFlag) != 0;

    public void AttachLocal(LocalLockQueue.Releaser releaser) => _local = releaser;

    public void MarkLost()
    {
        if (IsReleased || Interlocked.Exchange(ref _lostFlag, 1) != 0)
        {
            return;
        }

        CoordinationDiagnostics.Lost.Add(1, Mode, Key, Shape);
        ThreadPool.UnsafeQueueUserWorkItem(static cts =>
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
            catch (AggregateException)
            {
                // a user's LostToken callback threw; the lock is lost either way
            }
        }, _lost, preferLocal: false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        try
        {
            await _release(this).ConfigureAwait(false);
        }
        finally
        {
            CoordinationDiagnostics.HeldDuration.Record(Stopwatch.GetElapsedTime(_startTimestamp).TotalMilliseconds, Mode, Key, Shape);
            _local?.Dispose();
        }
    }
}

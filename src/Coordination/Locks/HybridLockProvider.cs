using System.Diagnostics;
using Coordination.Diagnostics;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The hybrid lock (and, without Redis, the ZooKeeper-only lock): a <see cref="RedisLockGate"/> in front of a
/// <see cref="ZooKeeperLockQueue"/>, with a <see cref="LockLossMonitor"/> on every granted lock. Semaphores and
/// reader-writer locks run the same protocol with their <see cref="LockShape"/>: a counting gate
/// (<see cref="RedisPermitRecord"/>), their own directory and node marker, and their <see cref="QueueTurnRule"/>.
/// </summary>
/// <remarks>
/// Protocol for key K:
/// <code>
/// 0. local:   queue behind other callers of this process for K (one remote contender per process).
/// 1. gate:    SET &lt;prefix&gt;lock:K "&lt;owner&gt;:{meta}" NX PX lease.   Lost + try-once  => null, no ZooKeeper traffic.
///             Redis unreachable => skip the gate, report Degraded, continue ZooKeeper-only.
/// 2. queue:   create the own node (ZooKeeperLockQueue.EnterAsync: lost replies found by owner id or swept later).
/// 3. turn:    lowest node => granted.  Not lowest: give the gate back (the record belongs to the owner); try-once
///             => leave; else wait for the predecessor's deletion or the Redis bell.
/// 4. granted: fencing token = czxid of own node; SET the record (ZooKeeper wins over a stale record); the loss
///             monitor watches the node and the session; the watchdog re-asserts the record every lease/3.
/// 5. release: delete own node (at most ReleaseWait, else in the background), then compare-and-delete the record
///             and PUBLISH the bell.
/// ZooKeeper gone (no answer for ZooKeeperUnavailableAfter) => LockUnavailable at once (fail closed) unless
/// UnsafeAllowRedisOnlyFallback.
/// </code>
/// </remarks>
internal sealed class HybridLockProvider : QueuedLockProvider
{
    private readonly HybridCoordinationOptions _options;
    private readonly CoordinationConnections _connections;
    private readonly CoordinationStatus _status;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly RedisLockGate? _gate;
    private readonly ZooKeeperLockQueue _queue;
    private readonly LockLossMonitor _loss;
    private readonly RedisLockProvider? _fallback;

    public HybridLockProvider(HybridCoordinationOptions options, CoordinationConnections connections, CoordinationStatus status, ILoggerFactory? loggerFactory, TimeProvider? time, bool useRedis)
        : base(options, useRedis ? LockMode.Hybrid : LockMode.ZooKeeperOnly, time ?? TimeProvider.System)
    {
        _options = options;
        _connections = connections;
        _status = status;
        _logger = loggerFactory?.CreateLogger<HybridLockProvider>() ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _queue = new ZooKeeperLockQueue(options, _logger);
        _loss = new LockLossMonitor(_logger, _time, zk => Active.Keys.Where(h => ReferenceEquals(h.Session, zk)), Stopping);
        if (useRedis)
        {
            _gate = new RedisLockGate(options, connections, status, _logger);
            if (options.UnsafeAllowRedisOnlyFallback)
            {
                _fallback = new RedisLockProvider(options, connections, status, loggerFactory, time, _gate.Bell, isFallback: true);
            }
        }

        connections.ZooKeeperStateChanged += OnZooKeeperStateChanged;
    }

    private void MarkHealthy()
    {
        if (_status.Mode != CoordinationHealthMode.Normal)
        {
            _status.Set(CoordinationHealthMode.Normal, null);
        }
    }

    protected override async ValueTask<LockHandle?> AcquireRemoteAsync(string key, LockShape shape, TimeSpan? remaining, CancellationToken ct)
    {
        var ownerId = RedisLockRecord.NewOwnerId();
        var (redis, reservation) = _gate is null ? (null, null) : await _gate.TryReserveAsync(key, shape, ownerId).ConfigureAwait(false);
        if (redis is not null && reservation is null && remaining == TimeSpan.Zero)
        {
            CoordinationDiagnostics.Contentions.Add(1, Mode, key, shape);
            return null; // the gate answered: no ZooKeeper traffic
        }

        LockHandle? handle = null;
        try
        {
            ZooKeeperClient zk;
            try
            {
                zk = _connections.GetZooKeeper();
                await _queue.AwaitSessionAsync(zk, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or ZooKeeperException or ObjectDisposedException)
            {
                return handle = await UnavailableAsync(key, shape, remaining, ct, ex, redis, reservation).ConfigureAwait(false);
            }

            if (redis is not null || _gate is null)
            {
                MarkHealthy();
            }

            return handle = await QueueAndWaitAsync(zk, key, shape, ownerId, remaining, ct, redis, reservation).ConfigureAwait(false);
        }
        finally
        {
            if (handle is null && reservation is not null)
            {
                await reservation.GiveBackAsync().ConfigureAwait(false);
            }
        }
    }

    private async ValueTask<LockHandle?> UnavailableAsync(string key, LockShape shape, TimeSpan? remaining, CancellationToken ct, Exception ex, IConnectionMultiplexer? fallbackRedis, GateReservation? reservation)
    {
        if (reservation is not null)
        {
            await reservation.GiveBackAsync().ConfigureAwait(false);
        }

        if (_fallback is not null && fallbackRedis is not null)
        {
            Log.UnsafeFallback(_logger, key);
            _status.Set(CoordinationHealthMode.UnsafeRedisOnly, "ZooKeeper is unavailable: UnsafeAllowRedisOnlyFallback grants Redis-only leases.");
            return await _fallback.AcquireDirectAsync(key, shape, remaining, ct).ConfigureAwait(false);
        }

        Log.ZooKeeperUnavailable(_logger, key, ex);
        CoordinationDiagnostics.Unavailable.Add(1, Mode, key, shape);
        _status.Set(CoordinationHealthMode.Unavailable, "ZooKeeper is unavailable: no lock is granted (fail closed).");
        throw new LockUnavailableException($"The {shape.Name} '{key}' cannot be decided: ZooKeeper ({_options.ZooKeeper}) is unavailable ({ex.Message}). No lock was granted.", ex);
    }

    private async ValueTask<LockHandle?> QueueAndWaitAsync(ZooKeeperClient zk, string key, LockShape shape, string ownerId, TimeSpan? remaining, CancellationToken ct, IConnectionMultiplexer? redis, GateReservation? reservation)
    {
        ZooKeeperCreateResult node;
        (bool Granted, long WaitedFrom) turn;
        try
        {
            node = await _queue.EnterAsync(zk, _queue.DirectoryOf(key, shape), ownerId, ct, shape.NodeMarker).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ZooKeeperException and not NoAuthException || ex is TimeoutException || SessionEnded(ex, zk))
        {
            return await UnavailableAsync(key, shape, remaining, ct, ex, null, reservation).ConfigureAwait(false);
        }

        try
        {
            turn = await _queue.WaitForTurnAsync(
                zk,
                key,
                node,
                ownerId,
                remaining,
                async () =>
                {
                    CoordinationDiagnostics.Contentions.Add(1, Mode, key, shape);
                    if (reservation is not null)
                    {
                        await reservation.GiveBackAsync().ConfigureAwait(false); // the record belongs to the owner
                    }
                },
                wake => redis is null ? null : _gate!.Listen(redis, shape.LocalKey(key), wake),
                ct,
                QueueTurnRule.For(shape)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ZooKeeperException and not NoAuthException || ex is TimeoutException || SessionEnded(ex, zk))
        {
            _queue.Janitor.Delete(zk, node.Path);
            return await UnavailableAsync(key, shape, remaining, ct, ex, null, reservation).ConfigureAwait(false);
        }
        catch
        {
            _queue.Janitor.Delete(zk, node.Path); // cancelled: the reservation is given back by the caller
            throw;
        }

        if (!turn.Granted)
        {
            _queue.Janitor.Delete(zk, node.Path);
            return null;
        }

        if (turn.WaitedFrom != 0)
        {
            CoordinationDiagnostics.WaitDuration.Record(Stopwatch.GetElapsedTime(turn.WaitedFrom).TotalMilliseconds, Mode, key, shape);
        }

        var handle = new LockHandle(key, node.Stat.Czxid, Mode, _time.GetUtcNow(), ownerId, ReleaseAsync)
        {
            NodePath = node.Path,
            Session = zk,
            Shape = shape,
        };
        Track(handle, renewLease: redis is not null);
        if (redis is not null)
        {
            _gate!.WriteRecord(redis, handle);
        }

        _loss.WatchOwnNode(zk, handle);
        Log.LockAcquired(_logger, key, handle.FencingToken, Mode);
        return handle;
    }

    /// <summary>
    /// The session the attempt ran on expired and its client was disposed under it (a process paused past its
    /// session, or a long partition): the caller learns that ZooKeeper could not decide, not about our internals.
    /// </summary>
    private static bool SessionEnded(Exception ex, ZooKeeperClient zk) =>
        ex is ObjectDisposedException && zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed;

    private void OnZooKeeperStateChanged(object? sender, ZooKeeperStateChangedEventArgs e)
    {
        if (sender is ZooKeeperClient zk)
        {
            _queue.Janitor.OnSessionStateChanged(e.Current);
            _loss.OnStateChanged(zk, e.Current);
        }
    }

    /// <summary>Hybrid watchdog tick: re-assert each Redis record (extend, or re-create after a flush); ZooKeeper decides.</summary>
    protected override Task RenewLeasesAsync(IReadOnlyList<LockHandle> handles) => _gate?.ReassertAsync(handles) ?? Task.CompletedTask;

    /// <summary>
    /// Deletes the own node, then drops the Redis record and rings the bell (a waiter woken by the bell never re-checks
    /// before the node is gone). Never waits for an outage: see <see cref="ZooKeeperLockQueue.LeaveAsync"/>.
    /// </summary>
    private async ValueTask ReleaseAsync(LockHandle handle)
    {
        Untrack(handle);
        var deleted = await _queue.LeaveAsync(handle.Session!, handle.NodePath!, () => _gate?.ReleaseRecord(handle)).ConfigureAwait(false);
        if (deleted)
        {
            Log.LockReleased(_logger, handle.Key, handle.FencingToken);
        }
        else
        {
            Log.ReleaseDeferred(_logger, handle.Key, handle.FencingToken);
        }
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        _connections.ZooKeeperStateChanged -= OnZooKeeperStateChanged;
        await _queue.DisposeAsync().ConfigureAwait(false);
        if (_fallback is not null)
        {
            await _fallback.DisposeAsync().ConfigureAwait(false);
        }
    }
}

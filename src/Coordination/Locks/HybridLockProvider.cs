using System.Diagnostics;
using System.Runtime.CompilerServices;
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
/// Protocol for key K. Sequential round trips of an uncontended acquire+release: one ZooKeeper write to enter (create
/// and the read behind it share the round trip) and one to leave; a try-once caller adds the gate's Redis round trip
/// in front; every other Redis command is fire-and-forget, off the caller's path.
/// <code>
/// 0. local:   queue behind other callers of this process for K (one remote contender per process).
/// 1. gate:    try-once only: SET &lt;prefix&gt;{K}:lock "&lt;owner&gt;:{}" NX PX lease.  Lost =&gt; null, no ZooKeeper traffic.
///             A waiting caller queues in ZooKeeper whatever the gate says, so it takes none (its record is written
///             at the grant).  Redis unreachable =&gt; skip the gate, report Degraded, continue ZooKeeper-only.
/// 2. queue:   create the own node and getChildren in one write (ZooKeeperLockQueue.EnterAsync: the session applies
///             them in order, so the read sees the node; lost replies found by owner id or swept later).
/// 3. turn:    the rule grants (the lock: lowest node) =&gt; granted.  Not granted: give the gate back (the record belongs
///             to the owner); try-once =&gt; leave; else wait for the predecessor's deletion or the Redis bell.
/// 4. granted: fencing token = czxid from the create2 reply; SET the record, fire-and-forget (ZooKeeper wins over a
///             stale record); the loss monitor watches the node and the session; the watchdog re-asserts every held
///             record each lease/3, pipelined.
/// 5. release: delete own node (at most ReleaseWait, else in the background), then compare-and-delete the record
///             and PUBLISH the bell, fire-and-forget (sent after the delete's reply, so a woken waiter finds the node
///             gone).
/// ZooKeeper gone (no answer for ZooKeeperUnavailableAfter) =&gt; LockUnavailable at once (fail closed) unless
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
    private readonly Func<string, Action<string?>, IDisposable?> _listen;
    private readonly Action<LockHandle, bool> _afterDelete;
    private readonly Func<LockHandle, ValueTask> _release;

    public HybridLockProvider(HybridCoordinationOptions options, CoordinationConnections connections, CoordinationStatus status, ILoggerFactory? loggerFactory, TimeProvider? time, bool useRedis)
        : base(options, useRedis ? LockMode.Hybrid : LockMode.ZooKeeperOnly, time ?? TimeProvider.System)
    {
        _options = options;
        _connections = connections;
        _status = status;
        _logger = loggerFactory?.CreateLogger<HybridLockProvider>() ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _queue = new ZooKeeperLockQueue(options, _logger);
        _listen = (localKey, wake) => _gate!.Listen(localKey, wake);
        _afterDelete = AfterDelete;
        _release = ReleaseAsync; // delegates made once: a method group allocates one per use
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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<LockHandle?> AcquireRemoteAsync(string key, LockShape shape, TimeSpan? remaining, CancellationToken ct)
    {
        var ownerId = RedisLockRecord.NewOwnerId();
        // Try-once: the gate answers before ZooKeeper is touched. A waiting caller queues in ZooKeeper whatever the
        // gate would say, so it takes no gate: no Redis round trip before the grant (its record is written then).
        var (redis, reservation) = _gate is null ? (null, null)
            : remaining == TimeSpan.Zero ? await _gate.TryReserveAsync(key, shape, ownerId).ConfigureAwait(false)
            : (await _gate.UsableRedisAsync(key).ConfigureAwait(false), null);
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
        throw new LockUnavailableException($"The {shape.Name} '{key}' cannot be decided: ZooKeeper ({_options.ZooKeeper}) is unavailable ({_connections.Scrub(ex.Message)}). No lock was granted.", ex);
    }

    /// <summary>NoAuth or InvalidACL: the session's identity may not queue in the key's directory.</summary>
    private static bool IsDenied(Exception ex) => ex is NoAuthException || ex is ZooKeeperException { Code: ZooKeeperErrorCode.InvalidAcl };

    /// <summary>
    /// ZooKeeper refuses this identity the key's queue: fail closed with the reason. Not an outage, so no Redis-only
    /// fallback: waiting or retrying cannot help until the credentials or the ACL are fixed.
    /// </summary>
    private async ValueTask<LockHandle?> DeniedAsync(string key, LockShape shape, string dir, ZooKeeperException ex, GateReservation? reservation)
    {
        if (reservation is not null)
        {
            await reservation.GiveBackAsync().ConfigureAwait(false);
        }

        var why = _connections.ZooKeeperSecurity.Denied($"queueing for the {shape.Name} in", dir, ex);
        Log.ZooKeeperDenied(_logger, key, why);
        CoordinationDiagnostics.Unavailable.Add(1, Mode, key, shape);
        _status.Set(CoordinationHealthMode.Unavailable, why);
        throw new LockUnavailableException($"The {shape.Name} '{key}' cannot be decided: {why} No lock was granted.", ex);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<LockHandle?> QueueAndWaitAsync(ZooKeeperClient zk, string key, LockShape shape, string ownerId, TimeSpan? remaining, CancellationToken ct, IConnectionMultiplexer? redis, GateReservation? reservation)
    {
        ZooKeeperLockQueue.QueueEntry entry;
        (bool Granted, long WaitedFrom) turn;
        try
        {
            entry = await _queue.EnterAsync(zk, _queue.DirectoryOf(key, shape), ownerId, ct, shape.NodeMarker).ConfigureAwait(false);
        }
        catch (ZooKeeperException ex) when (IsDenied(ex))
        {
            return await DeniedAsync(key, shape, _queue.DirectoryOf(key, shape), ex, reservation).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ZooKeeperException || ex is TimeoutException || SessionEnded(ex, zk))
        {
            return await UnavailableAsync(key, shape, remaining, ct, ex, null, reservation).ConfigureAwait(false);
        }

        var node = entry.Node;
        try
        {
            // A reservation (try-once) never waits: it is given back below once the turn is not granted.
            turn = await _queue.WaitForTurnAsync(
                zk,
                key,
                entry,
                ownerId,
                remaining,
                redis is null ? NoBell : _listen,
                ct,
                QueueTurnRule.For(shape),
                shape.LocalKey(key)).ConfigureAwait(false);
        }
        catch (ZooKeeperException ex) when (IsDenied(ex))
        {
            _queue.Janitor.Delete(zk, node.Path);
            return await DeniedAsync(key, shape, ZooKeeperPath.GetParent(node.Path), ex, reservation).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ZooKeeperException || ex is TimeoutException || SessionEnded(ex, zk))
        {
            _queue.Janitor.Delete(zk, node.Path);
            return await UnavailableAsync(key, shape, remaining, ct, ex, null, reservation).ConfigureAwait(false);
        }
        catch
        {
            _queue.Janitor.Delete(zk, node.Path); // cancelled: the reservation is given back by the caller
            throw;
        }

        if (turn.WaitedFrom != 0)
        {
            CoordinationDiagnostics.Contentions.Add(1, Mode, key, shape); // the queue was found taken
        }

        if (!turn.Granted)
        {
            _queue.Janitor.Delete(zk, node.Path);
            if (reservation is not null)
            {
                await reservation.GiveBackAsync().ConfigureAwait(false); // the record belongs to the owner
            }

            return null;
        }

        if (turn.WaitedFrom != 0)
        {
            CoordinationDiagnostics.WaitDuration.Record(Stopwatch.GetElapsedTime(turn.WaitedFrom).TotalMilliseconds, Mode, key, shape);
        }

        var handle = new LockHandle(key, node.Stat.Czxid, Mode, _time.GetUtcNow(), ownerId, _release)
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

    private static readonly Func<string, Action<string?>, IDisposable?> NoBell = static (_, _) => null;

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
    private ValueTask ReleaseAsync(LockHandle handle)
    {
        Untrack(handle);
        return _queue.LeaveAsync(handle, _afterDelete);
    }

    /// <summary>After the own node's delete: drop the record and ring the bell (fire-and-forget), log.</summary>
    private void AfterDelete(LockHandle handle, bool now)
    {
        _gate?.ReleaseRecord(handle);
        if (now)
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

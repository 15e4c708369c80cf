using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Coordination.Diagnostics;
using Coordination.Keys;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The hybrid lock (and, without Redis, the ZooKeeper-only lock).
/// </summary>
/// <remarks>
/// Protocol for key K (node dir D = <c>&lt;root&gt;/locks/&lt;encoded K&gt;</c>, a container node):
/// <code>
/// 0. local:   queue behind other callers of this process for K (one remote contender per process).
/// 1. gate:    SET &lt;prefix&gt;lock:K "&lt;owner&gt;:{meta}" NX PX lease.   Lost + try-once  => null, no ZooKeeper traffic.
///             Redis unreachable => skip the gate, report Degraded, continue ZooKeeper-only.
/// 2. queue:   create D/&lt;owner&gt;-NNNNNNNNNN ephemeral-sequential (ConnectionLoss => find own node by owner id).
/// 3. check:   getChildren(D); lowest sequence = owner.  Not lowest: try-once => delete own node, give the gate
///             back, null.  Waiting => give the gate back (the record belongs to the owner), watch the
///             predecessor only (exists+watch) and the Redis release bell; on either, re-check.
/// 4. granted: fencing token = czxid of own node; SET the record (ZooKeeper wins over a stale record);
///             exists-watch on own node (deleted => lost); the watchdog re-asserts the record every lease/3.
/// 5. release: delete own node and, concurrently, Lua compare-and-delete of the record + PUBLISH the bell.
/// Lost: own node deleted, session expired, or suspended for half the session timeout since the server
/// was last heard from (before the server can expire the session). ZooKeeper unreachable => LockUnavailable
/// (fail closed) unless UnsafeAllowRedisOnlyFallback.
/// </code>
/// </remarks>
internal sealed class HybridLockProvider : QueuedLockProvider
{
    private readonly HybridCoordinationOptions _options;
    private readonly CoordinationConnections _connections;
    private readonly CoordinationStatus _status;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly bool _useRedis;
    private readonly ReleaseBell _bell;
    private readonly RedisLockProvider? _fallback;
    private readonly string _locksRoot;
    private readonly ConcurrentDictionary<string, byte> _knownDirs = new(StringComparer.Ordinal);

    /// <summary>How long a lock is held before the watch on its own node is set.</summary>
    internal static readonly TimeSpan OwnNodeWatchDelay = TimeSpan.FromMilliseconds(50);
    private long _suspendGeneration;

    public HybridLockProvider(HybridCoordinationOptions options, CoordinationConnections connections, CoordinationStatus status, ILoggerFactory? loggerFactory, TimeProvider? time, bool useRedis)
        : base(options, useRedis ? LockMode.Hybrid : LockMode.ZooKeeperOnly, time ?? TimeProvider.System)
    {
        _options = options;
        _connections = connections;
        _status = status;
        _logger = loggerFactory?.CreateLogger<HybridLockProvider>() ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _useRedis = useRedis;
        _bell = new ReleaseBell(options.RedisPrefix);
        _locksRoot = options.UnderRoot("locks");
        if (useRedis && options.UnsafeAllowRedisOnlyFallback)
        {
            _fallback = new RedisLockProvider(options, connections, status, loggerFactory, time, _bell, isFallback: true);
        }

        connections.ZooKeeperStateChanged += OnZooKeeperStateChanged;
    }

    private async ValueTask<IConnectionMultiplexer?> UsableRedisAsync(string key)
    {
        if (!_useRedis)
        {
            return null;
        }

        var task = _connections.GetRedisAsync();
        if (!task.IsCompleted)
        {
            // First use: wait for the multiplexer once (bounded), then never again.
            try
            {
                await task.WaitAsync(_options.ConnectTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException || RedisLockRecord.IsRedisFailure(ex))
            {
                MarkRedisDown(key, ex);
                return null;
            }
        }

        if (!task.IsCompletedSuccessfully || !task.Result.IsConnected)
        {
            MarkRedisDown(key, task.Exception?.InnerException);
            return null;
        }

        return task.Result;
    }

    private void MarkRedisDown(string key, Exception? ex)
    {
        if (_status.Mode == CoordinationHealthMode.Normal)
        {
            Log.RedisDegraded(_logger, key, ex);
        }

        if (_status.Mode is CoordinationHealthMode.Normal or CoordinationHealthMode.Degraded)
        {
            _status.Set(CoordinationHealthMode.Degraded, "Redis is unavailable: locks are decided by ZooKeeper alone.");
        }
    }

    private void MarkHealthy()
    {
        if (_status.Mode != CoordinationHealthMode.Normal)
        {
            _status.Set(CoordinationHealthMode.Normal, null);
        }
    }

    protected override async ValueTask<LockHandle?> AcquireRemoteAsync(string key, TimeSpan? remaining, CancellationToken ct)
    {
        var ownerId = RedisLockRecord.NewOwnerId();
        var redis = await UsableRedisAsync(key).ConfigureAwait(false);
        GateReservation? gate = null;
        if (redis is not null)
        {
            var record = RedisLockRecord.RecordKey(_options.RedisPrefix, key);
            try
            {
                if (await redis.GetDatabase().StringSetAsync(record, ownerId + ":{}", _options.RedisLease, When.NotExists).ConfigureAwait(false))
                {
                    gate = new GateReservation(redis, record, ownerId);
                }
            }
            catch (Exception ex) when (RedisLockRecord.IsRedisFailure(ex))
            {
                MarkRedisDown(key, ex);
                redis = null;
            }

            if (gate is null && redis is not null && remaining == TimeSpan.Zero)
            {
                CoordinationDiagnostics.Contentions.Add(1, CoordinationDiagnostics.ModeTag(Mode));
                return null;
            }
        }

        LockHandle? handle = null;
        try
        {
            ZooKeeperClient zk;
            try
            {
                zk = _connections.GetZooKeeper();
                if (zk.State != ZooKeeperState.Connected)
                {
                    // First connection: wait for it (start-up). Reconnecting: a short grace covers a failover to another
                    // server; longer outages fail closed instead of hanging.
                    var grace = zk.State == ZooKeeperState.Connecting
                        ? _options.ConnectTimeout + _options.OperationTimeout
                        : Max(Min(_options.ConnectTimeout, _options.SessionTimeout / 3), remaining ?? _options.ConnectTimeout);
                    await zk.WaitForConnectedAsync(grace, ct).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is TimeoutException or ZooKeeperException or ObjectDisposedException)
            {
                return handle = await UnavailableAsync(key, remaining, ct, ex, redis, gate).ConfigureAwait(false);
            }

            if (redis is not null || !_useRedis)
            {
                MarkHealthy();
            }

            var dir = _locksRoot + "/" + LockKey.ToNodeName(key);
            return handle = await QueueAndWaitAsync(zk, key, dir, ownerId, remaining, ct, redis, gate).ConfigureAwait(false);
        }
        finally
        {
            if (handle is null && gate is not null)
            {
                await gate.GiveBackAsync().ConfigureAwait(false);
            }
        }
    }

    private async ValueTask<LockHandle?> UnavailableAsync(string key, TimeSpan? remaining, CancellationToken ct, Exception ex, IConnectionMultiplexer? fallbackRedis, GateReservation? gate)
    {
        if (gate is not null)
        {
            await gate.GiveBackAsync().ConfigureAwait(false);
        }

        if (_fallback is not null && fallbackRedis is not null)
        {
            Log.UnsafeFallback(_logger, key);
            _status.Set(CoordinationHealthMode.UnsafeRedisOnly, "ZooKeeper is unavailable: UnsafeAllowRedisOnlyFallback grants Redis-only leases.");
            return await _fallback.AcquireDirectAsync(key, remaining, ct).ConfigureAwait(false);
        }

        Log.ZooKeeperUnavailable(_logger, key, ex);
        CoordinationDiagnostics.Unavailable.Add(1, CoordinationDiagnostics.ModeTag(Mode));
        _status.Set(CoordinationHealthMode.Unavailable, "ZooKeeper is unavailable: no lock is granted (fail closed).");
        throw new LockUnavailableException($"The lock '{key}' cannot be decided: ZooKeeper ({_options.ZooKeeper}) is unavailable ({ex.Message}). No lock was granted.", ex);
    }

    /// <summary>
    /// The record taken at the Redis gate before this caller owns the key. It is given back (compare-and-delete)
    /// on every path that does not end in ownership; giving back twice is harmless.
    /// </summary>
    private sealed class GateReservation(IConnectionMultiplexer redis, RedisKey record, string ownerId)
    {
        private int _returned;

        public async Task GiveBackAsync()
        {
            if (Interlocked.Exchange(ref _returned, 1) != 0)
            {
                return;
            }

            try
            {
                await RedisLockRecord.CompareDeleteScript.EvaluateAsync(redis.GetDatabase(), new { record, owner = ownerId }).ConfigureAwait(false);
            }
            catch (Exception ex) when (RedisLockRecord.IsRedisFailure(ex))
            {
                // The reservation expires with its lease.
            }
        }
    }

    private async ValueTask<LockHandle?> QueueAndWaitAsync(ZooKeeperClient zk, string key, string dir, string ownerId, TimeSpan? remaining, CancellationToken ct, IConnectionMultiplexer? redis, GateReservation? gate)
    {
        var record = RedisLockRecord.RecordKey(_options.RedisPrefix, key);
        ZooKeeperCreateResult node;
        try
        {
            node = await CreateOwnNodeAsync(zk, dir, ownerId, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ZooKeeperException and not NoAuthException || ex is TimeoutException)
        {
            return await UnavailableAsync(key, remaining, ct, ex, null, gate).ConfigureAwait(false);
        }

        var ownName = ZooKeeperPath.GetName(node.Path);
        var deadline = remaining is { } r ? Stopwatch.GetTimestamp() + (long)(r.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var waitedFrom = 0L;
        var granted = false;
        try
        {
            while (true)
            {
                var children = (await zk.GetChildrenAsync(dir, null, ct).ConfigureAwait(false)).Children;
                var ordered = children.Where(c => c.Length > 10).OrderBy(Sequence).ToList();
                var index = ordered.IndexOf(ownName);
                if (index < 0)
                {
                    throw new SessionExpiredException(node.Path, $"The lock node '{node.Path}' of '{key}' vanished while waiting (session expired or node deleted).");
                }

                if (index == 0)
                {
                    break;
                }

                if (waitedFrom == 0)
                {
                    CoordinationDiagnostics.Contentions.Add(1, CoordinationDiagnostics.ModeTag(Mode));
                    waitedFrom = Stopwatch.GetTimestamp();
                }

                if (gate is not null)
                {
                    await gate.GiveBackAsync().ConfigureAwait(false); // the record belongs to the owner
                }

                if (remaining == TimeSpan.Zero)
                {
                    return null; // finally deletes the node
                }

                var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using var bell = redis is not null ? _bell.Listen(key, () => wake.TrySetResult()) : null;
                if (redis is not null)
                {
                    _ = _bell.EnsureSubscribedAsync(redis);
                }

                void OnState(object? s, ZooKeeper.ZooKeeperStateChangedEventArgs e) => wake.TrySetResult();
                zk.StateChanged += OnState;
                try
                {
                    var predecessor = dir + "/" + ordered[index - 1];
                    var stat = await zk.ExistsAsync(predecessor, _ => wake.TrySetResult(), ct).ConfigureAwait(false);
                    if (stat is null)
                    {
                        continue;
                    }

                    var left = deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                    if (left != Timeout.InfiniteTimeSpan && left <= TimeSpan.Zero)
                    {
                        return null;
                    }

                    try
                    {
                        await wake.Task.WaitAsync(left, ct).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        return null;
                    }
                }
                finally
                {
                    zk.StateChanged -= OnState;
                }

                if (zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed)
                {
                    throw new SessionExpiredException(node.Path, $"The ZooKeeper session expired while waiting for '{key}'.");
                }
            }

            granted = true;
        }
        catch (Exception ex) when (ex is ZooKeeperException and not NoAuthException)
        {
            return await UnavailableAsync(key, remaining, ct, ex, null, gate).ConfigureAwait(false);
        }
        finally
        {
            if (!granted)
            {
                _ = DeleteNodeAsync(zk, node.Path, key); // the reservation is given back by the caller
            }
        }

        if (waitedFrom != 0)
        {
            CoordinationDiagnostics.WaitDuration.Record(Stopwatch.GetElapsedTime(waitedFrom).TotalMilliseconds, CoordinationDiagnostics.ModeTag(Mode));
        }

        var acquiredAt = _time.GetUtcNow();
        var handle = new LockHandle(key, node.Stat.Czxid, Mode, acquiredAt, ownerId, ReleaseAsync)
        {
            NodePath = node.Path,
            Session = zk,
        };
        Track(handle, renewLease: redis is not null);
        if (redis is not null)
        {
            handle.RedisValue = RedisLockRecord.Value(ownerId, key, handle.FencingToken, acquiredAt, node.Path);
            try
            {
                // ZooKeeper decided: overwrite a stale or reserved record with ours. Fire-and-forget keeps it off the hot path.
                _ = redis.GetDatabase().StringSetAsync(record, handle.RedisValue, _options.RedisLease, When.Always, CommandFlags.FireAndForget);
            }
            catch (Exception ex) when (RedisLockRecord.IsRedisFailure(ex))
            {
                MarkRedisDown(key, ex);
            }
        }

        WatchOwnNode(zk, handle);
        Log.LockAcquired(_logger, key, handle.FencingToken, Mode);
        return handle;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static long Sequence(string child) =>
        long.TryParse(child.AsSpan(child.Length - 10), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : long.MaxValue;

    private async Task<ZooKeeperCreateResult> CreateOwnNodeAsync(ZooKeeperClient zk, string dir, string ownerId, CancellationToken ct)
    {
        var prefix = dir + "/" + ownerId + "-";
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                CoordinationDiagnostics.ZooKeeperWrites.Add(1);
                if (_knownDirs.ContainsKey(dir))
                {
                    return await zk.CreateAsync(prefix, ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential, cancellationToken: ct).ConfigureAwait(false);
                }

                // A key not seen yet: create its container directory and our node in one round trip.
                var results = await zk.MultiAsync([
                    ZooKeeperOp.Create(dir, ReadOnlyMemory<byte>.Empty, CreateMode.Container),
                    ZooKeeperOp.Create(prefix, ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential),
                ], ct).ConfigureAwait(false);
                RememberDir(dir);
                var created = results[1].Path!;
                // Servers answer a create inside a multi without its stat; the czxid (fencing token) needs one read.
                var stat = results[1].Stat ?? await zk.ExistsAsync(created, null, ct).ConfigureAwait(false)
                    ?? throw new SessionExpiredException(created, $"The lock node '{created}' vanished right after it was created.");
                return new ZooKeeperCreateResult(created, stat);
            }
            catch (NodeExistsException ex) when (ex.Path == dir && attempt < 5)
            {
                RememberDir(dir); // the directory exists: a plain create next
            }
            catch (NoNodeException) when (attempt < 5)
            {
                // The server removed the empty container since we saw it, or the root is missing.
                _knownDirs.TryRemove(dir, out _);
                await zk.EnsurePathAsync(ZooKeeperPath.GetParent(dir), cancellationToken: ct).ConfigureAwait(false);
            }
            catch (ConnectionLossException) when (attempt < 3)
            {
                // The create may have been applied: find our node by its owner id instead of leaking it.
                await zk.WaitForConnectedAsync(_options.OperationTimeout, ct).ConfigureAwait(false);
                ZooKeeperChildrenResult children;
                try
                {
                    children = await zk.GetChildrenAsync(dir, null, ct).ConfigureAwait(false);
                }
                catch (NoNodeException)
                {
                    continue;
                }

                var mine = children.Children.FirstOrDefault(c => c.StartsWith(ownerId, StringComparison.Ordinal));
                if (mine is not null)
                {
                    var path = dir + "/" + mine;
                    var stat = await zk.ExistsAsync(path, null, ct).ConfigureAwait(false);
                    if (stat is not null)
                    {
                        return new ZooKeeperCreateResult(path, stat);
                    }
                }
            }
        }
    }

    private void RememberDir(string dir)
    {
        if (_knownDirs.Count > 10_000)
        {
            _knownDirs.Clear(); // bounded; a forgotten directory only costs one multi
        }

        _knownDirs[dir] = 0;
    }

    private void WatchOwnNode(ZooKeeperClient zk, LockHandle handle)
    {
        var path = handle.NodePath!;
        _ = WatchAsync();

        async Task WatchAsync()
        {
            try
            {
                // Deferred: most locks are held briefly, and a watch request ahead of the release's delete would
                // delay it. A node deleted meanwhile is reported when the watch is set (exists returns null);
                // session loss is reported by the state handler regardless.
                await Task.Delay(OwnNodeWatchDelay, _time, Stopping).ConfigureAwait(false);
                if (handle.IsReleased || handle.IsLost)
                {
                    return;
                }

                var stat = await zk.ExistsAsync(path, e =>
                {
                    if (e.Type == WatchEventType.NodeDeleted || e.State == WatchKeeperState.Expired)
                    {
                        Lose(handle, e.Type == WatchEventType.NodeDeleted ? "its ZooKeeper node was deleted" : "the ZooKeeper session expired");
                    }
                }).ConfigureAwait(false);
                if (stat is null)
                {
                    Lose(handle, "its ZooKeeper node was deleted");
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex) when (ex is ZooKeeperException or ObjectDisposedException)
            {
                if (zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed)
                {
                    Lose(handle, "the ZooKeeper session ended");
                }
            }
        }
    }

    private void Lose(LockHandle handle, string reason)
    {
        if (handle.IsReleased || handle.IsLost)
        {
            return;
        }

        Log.LockLost(_logger, handle.Key, handle.FencingToken, reason);
        handle.MarkLost();
    }

    private void OnZooKeeperStateChanged(object? sender, ZooKeeper.ZooKeeperStateChangedEventArgs e)
    {
        if (sender is not ZooKeeperClient zk)
        {
            return;
        }

        var generation = Interlocked.Increment(ref _suspendGeneration);
        switch (e.Current)
        {
            case ZooKeeperState.Expired:
            case ZooKeeperState.Closed:
            case ZooKeeperState.AuthFailed:
                foreach (var h in Active.Keys.Where(h => ReferenceEquals(h.Session, zk)))
                {
                    Lose(h, $"the ZooKeeper session is {e.Current}");
                }

                break;
            case ZooKeeperState.Suspended:
                // The server may expire the session once the timeout has passed since it last heard from us; stop
                // trusting the locks at half of it, measured from the last bytes we received.
                var bound = zk.NegotiatedSessionTimeout / 2;
                var elapsed = Stopwatch.GetElapsedTime(zk.LastHeardFromServer);
                var delay = bound - elapsed;
                _ = SuspendedAsync(zk, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, generation);
                break;
        }
    }

    private async Task SuspendedAsync(ZooKeeperClient zk, TimeSpan delay, long generation)
    {
        try
        {
            await Task.Delay(delay, _time, Stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (Interlocked.Read(ref _suspendGeneration) == generation && zk.State != ZooKeeperState.Connected)
        {
            foreach (var h in Active.Keys.Where(h => ReferenceEquals(h.Session, zk)))
            {
                Lose(h, $"the ZooKeeper connection was suspended longer than half the session timeout ({zk.NegotiatedSessionTimeout / 2})");
            }
        }
    }

    /// <summary>Hybrid watchdog tick: re-assert each Redis record (extend, or re-create after a flush); ZooKeeper decides.</summary>
    protected override async Task RenewLeasesAsync(IReadOnlyList<LockHandle> handles)
    {
        var withRecord = handles.Where(h => h.RedisValue is not null).ToList();
        if (withRecord.Count == 0 || await UsableRedisAsync(withRecord[0].Key).ConfigureAwait(false) is not { } redis)
        {
            return;
        }

        var db = redis.GetDatabase();
        var lease = (long)_options.RedisLease.TotalMilliseconds;
        foreach (var h in withRecord)
        {
            try
            {
                await RedisLockRecord.ReassertScript.EvaluateAsync(db, new
                {
                    record = RedisLockRecord.RecordKey(_options.RedisPrefix, h.Key),
                    value = h.RedisValue,
                    owner = h.OwnerId,
                    lease,
                }).ConfigureAwait(false);
            }
            catch (Exception ex) when (RedisLockRecord.IsRedisFailure(ex))
            {
                Log.LeaseExtendFailed(_logger, h.Key, ex);
                MarkRedisDown(h.Key, ex);
                return;
            }
        }
    }

    private async ValueTask ReleaseAsync(LockHandle handle)
    {
        Untrack(handle);
        var zk = (ZooKeeperClient)handle.Session!;

        // ZooKeeper first: the next waiter's watch fires on this delete. The Redis record and the bell follow, so a
        // waiter woken by the bell never re-checks before the node is gone. The Lua call is fire-and-forget: commands
        // from this process stay ordered on the multiplexer, and the record is only metadata and a try-once gate.
        if (!(handle.IsLost && zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed))
        {
            await DeleteNodeAsync(zk, handle.NodePath!, handle.Key).ConfigureAwait(false);
        }

        if (_useRedis && _connections.RedisIfCreated is { IsConnected: true } redis)
        {
            try
            {
                _ = RedisLockRecord.ReleaseAsync(redis.GetDatabase(), _options.RedisPrefix, handle, CommandFlags.FireAndForget);
            }
            catch (Exception ex) when (RedisLockRecord.IsRedisFailure(ex))
            {
                MarkRedisDown(handle.Key, ex);
            }
        }

        Log.LockReleased(_logger, handle.Key, handle.FencingToken);
    }

    /// <summary>Deletes a lock node, retrying across connection loss so a live session never keeps a stale node.</summary>
    private async Task DeleteNodeAsync(ZooKeeperClient zk, string path, string key)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                CoordinationDiagnostics.ZooKeeperWrites.Add(1);
                await zk.DeleteAsync(path).ConfigureAwait(false);
                return;
            }
            catch (NoNodeException)
            {
                return;
            }
            catch (Exception ex) when (ex is SessionExpiredException or ObjectDisposedException)
            {
                return; // the ephemeral node is gone with its session
            }
            catch (Exception ex) when (ex is ZooKeeperException)
            {
                if (attempt == 19)
                {
                    Log.ReleaseFailed(_logger, key, ex);
                    return;
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50 * (attempt + 1)), Stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        _connections.ZooKeeperStateChanged -= OnZooKeeperStateChanged;
        if (_fallback is not null)
        {
            await _fallback.DisposeAsync().ConfigureAwait(false);
        }
    }
}

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
    private readonly LockNodeJanitor _janitor;

    /// <summary>Longest a release waits for its node's delete before the janitor finishes it in the background.</summary>
    internal static readonly TimeSpan ReleaseWait = TimeSpan.FromMilliseconds(80);

    /// <summary>How long a lock is held before the watch on its own node is set.</summary>
    internal static readonly TimeSpan OwnNodeWatchDelay = TimeSpan.FromMilliseconds(50);
    private long _suspendGeneration;

    /// <summary>
    /// Share of the negotiated session timeout, counted from the sending of the newest request the server answered,
    /// after which a suspended session's locks are reported lost.
    /// </summary>
    internal const double LostAfterFraction = 0.75;

    public HybridLockProvider(HybridCoordinationOptions options, CoordinationConnections connections, CoordinationStatus status, ILoggerFactory? loggerFactory, TimeProvider? time, bool useRedis)
        : base(options, useRedis ? LockMode.Hybrid : LockMode.ZooKeeperOnly, time ?? TimeProvider.System)
    {
        _options = options;
        _connections = connections;
        _status = status;
        _logger = loggerFactory?.CreateLogger<HybridLockProvider>() ?? (ILogger)NullLogger.Instance;
        _janitor = new LockNodeJanitor(_logger);
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
                await AwaitSessionAsync(zk, ct).ConfigureAwait(false);
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

    /// <summary>
    /// Returns once <paramref name="zk"/> is connected. A blip (a leader failover) is waited out; once no server has
    /// answered for <see cref="HybridCoordinationOptions.ZooKeeperUnavailableAfter"/> ZooKeeper counts as gone and this
    /// throws at once (fail closed, fast). The first connection of a new session gets <see cref="HybridCoordinationOptions.ConnectTimeout"/>.
    /// </summary>
    /// <exception cref="TimeoutException">ZooKeeper is gone: no server answered within the bound.</exception>
    private async ValueTask AwaitSessionAsync(ZooKeeperClient zk, CancellationToken ct)
    {
        var state = zk.State;
        if (state == ZooKeeperState.Connected)
        {
            return;
        }

        var wait = _options.ConnectTimeout;
        if (state != ZooKeeperState.Connecting)
        {
            var silent = Stopwatch.GetElapsedTime(zk.LastHeardFromServer);
            wait = _options.ZooKeeperUnavailableAfter - silent;
            if (wait <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no ZooKeeper server has answered for {silent.TotalSeconds:0.0} s (ZooKeeperUnavailableAfter {_options.ZooKeeperUnavailableAfter})");
            }
        }

        await zk.WaitForConnectedAsync(wait, ct).ConfigureAwait(false);
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
                await AwaitSessionAsync(zk, ct).ConfigureAwait(false);
                IReadOnlyList<string> children;
                try
                {
                    children = (await zk.GetChildrenAsync(dir, null, ct).ConfigureAwait(false)).Children;
                }
                catch (ConnectionLossException)
                {
                    continue; // the session survives a blip: wait for it (bounded) and look again
                }

                var ordered = OrderQueue(children, dir, ownName, ownerId, zk);
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
                    ZooKeeperStat? stat;
                    try
                    {
                        stat = await zk.ExistsAsync(predecessor, _ => wake.TrySetResult(), ct).ConfigureAwait(false);
                    }
                    catch (ConnectionLossException)
                    {
                        continue;
                    }

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
        catch (Exception ex) when (ex is ZooKeeperException and not NoAuthException || ex is TimeoutException)
        {
            return await UnavailableAsync(key, remaining, ct, ex, null, gate).ConfigureAwait(false);
        }
        finally
        {
            if (!granted)
            {
                _janitor.Delete(zk, node.Path); // in the background; the reservation is given back by the caller
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

    /// <summary>
    /// The queue in sequence order. A second node of this attempt (a create retried after a lost reply whose first try
    /// was applied after all) is not a predecessor to wait for: it is removed instead.
    /// </summary>
    private List<string> OrderQueue(IReadOnlyList<string> children, string dir, string ownName, string ownerId, ZooKeeperClient zk)
    {
        var ordered = new List<string>(children.Count);
        foreach (var c in children)
        {
            if (c.Length <= 10)
            {
                continue;
            }

            if (c != ownName && LockNodeJanitor.IsOwnedBy(c, ownerId))
            {
                _janitor.Delete(zk, dir + "/" + c);
                continue;
            }

            ordered.Add(c);
        }

        ordered.Sort((a, b) => Sequence(a).CompareTo(Sequence(b)));
        return ordered;
    }

    private static long Sequence(string child) =>
        long.TryParse(child.AsSpan(child.Length - 10), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : long.MaxValue;

    /// <summary>
    /// Creates this attempt's node (with the key's container directory when the key is new). A create whose reply
    /// is lost may have been applied: the node is looked up by owner id once the session is back (within the
    /// fail-fast bound) and, when the attempt gives up instead, the janitor sweeps it in the background, so an
    /// orphan never stays at the head of the queue for the rest of the session.
    /// </summary>
    private async Task<ZooKeeperCreateResult> CreateOwnNodeAsync(ZooKeeperClient zk, string dir, string ownerId, CancellationToken ct)
    {
        try
        {
            return await CreateOrFindOwnNodeAsync(zk, dir, ownerId, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not NoAuthException)
        {
            _janitor.Sweep(zk, dir, ownerId);
            throw;
        }
    }

    private async Task<ZooKeeperCreateResult> CreateOrFindOwnNodeAsync(ZooKeeperClient zk, string dir, string ownerId, CancellationToken ct)
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
                // The create may have been applied: find our node by its owner id instead of creating a second one.
                await AwaitSessionAsync(zk, ct).ConfigureAwait(false);
                if (await FindOwnNodeAsync(zk, dir, ownerId, ct).ConfigureAwait(false) is { } found)
                {
                    return found;
                }
            }
        }
    }

    private static async Task<ZooKeeperCreateResult?> FindOwnNodeAsync(ZooKeeperClient zk, string dir, string ownerId, CancellationToken ct)
    {
        IReadOnlyList<string> children;
        try
        {
            // After a reconnect this server may not have seen a create sent on the old connection yet: sync first.
            await zk.SyncAsync(dir, ct).ConfigureAwait(false);
            children = (await zk.GetChildrenAsync(dir, null, ct).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return null;
        }

        var mine = children.FirstOrDefault(c => LockNodeJanitor.IsOwnedBy(c, ownerId));
        if (mine is null)
        {
            return null;
        }

        var path = dir + "/" + mine;
        return await zk.ExistsAsync(path, null, ct).ConfigureAwait(false) is { } stat ? new ZooKeeperCreateResult(path, stat) : null;
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

        _janitor.OnSessionStateChanged(e.Current);
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
                // The server cannot expire the session before the session timeout has passed since it received our
                // newest answered request, which it received no earlier than we sent it. Stop trusting the locks at
                // LostAfterFraction of that (a quarter of the timeout before the server could act); a failover
                // that re-attaches sooner reports nothing.
                var bound = zk.NegotiatedSessionTimeout * LostAfterFraction;
                var elapsed = Stopwatch.GetElapsedTime(zk.LastAcknowledgedSend);
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
                Lose(h, $"no ZooKeeper server answered for {zk.NegotiatedSessionTimeout * LostAfterFraction} ({LostAfterFraction:0.##} of the session timeout) since the last acknowledged request");
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

    /// <summary>
    /// Deletes the own node and then drops the Redis record and rings the bell (a waiter woken by the bell never
    /// re-checks before the node is gone). The caller waits at most <see cref="ReleaseWait"/>: during an outage, or
    /// when the server is slow, the janitor finishes the delete and the Redis steps once the session is back; the
    /// session's end removes the node at the latest.
    /// </summary>
    private async ValueTask ReleaseAsync(LockHandle handle)
    {
        Untrack(handle);
        var zk = (ZooKeeperClient)handle.Session!;
        var path = handle.NodePath!;
        if (zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed or ZooKeeperState.AuthFailed)
        {
            ReleaseRecord(handle); // the ephemeral node is gone with its session
        }
        else if (zk.State == ZooKeeperState.Connected && await TryDeleteAsync(zk, path).ConfigureAwait(false))
        {
            ReleaseRecord(handle);
        }
        else
        {
            _janitor.Delete(zk, path, () =>
            {
                ReleaseRecord(handle);
                return Task.CompletedTask;
            });
            Log.ReleaseDeferred(_logger, handle.Key, handle.FencingToken);
            return;
        }

        Log.LockReleased(_logger, handle.Key, handle.FencingToken);
    }

    /// <summary>One delete, awaited at most <see cref="ReleaseWait"/>; false when its outcome is not known by then.</summary>
    private static async ValueTask<bool> TryDeleteAsync(ZooKeeperClient zk, string path)
    {
        CoordinationDiagnostics.ZooKeeperWrites.Add(1);
        var delete = zk.DeleteAsync(path);
        try
        {
            await delete.WaitAsync(ReleaseWait).ConfigureAwait(false);
            return true;
        }
        catch (NoNodeException)
        {
            return true;
        }
        catch (Exception ex) when (ex is ZooKeeperException or TimeoutException or ObjectDisposedException)
        {
            _ = delete.Exception; // observed; the janitor deletes again (NoNode counts as done)
            return false;
        }
    }

    private void ReleaseRecord(LockHandle handle)
    {
        if (!_useRedis || _connections.RedisIfCreated is not { IsConnected: true } redis)
        {
            return;
        }

        try
        {
            // Fire-and-forget: commands from this process stay ordered on the multiplexer, and the record is only
            // metadata and a try-once gate.
            _ = RedisLockRecord.ReleaseAsync(redis.GetDatabase(), _options.RedisPrefix, handle, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisFailure(ex))
        {
            MarkRedisDown(handle.Key, ex);
        }
    }

    protected override async ValueTask DisposeCoreAsync()
    {
        _connections.ZooKeeperStateChanged -= OnZooKeeperStateChanged;
        await _janitor.DisposeAsync().ConfigureAwait(false);
        if (_fallback is not null)
        {
            await _fallback.DisposeAsync().ConfigureAwait(false);
        }
    }
}

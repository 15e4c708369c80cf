using System.Runtime.CompilerServices;
using Coordination.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The Redis side of the hybrid lock: the gate a caller passes before ZooKeeper is touched (<c>SET NX PX</c>), the
/// record the holder keeps (owner id + metadata, re-asserted by the watchdog), and the release bell. Redis never
/// decides ownership: when it is unreachable every step is skipped and the mode reports Degraded.
/// </summary>
internal sealed class RedisLockGate(HybridCoordinationOptions options, CoordinationConnections connections, CoordinationStatus status, ILogger logger)
{
    /// <summary>Wakes waiters of this process when any process releases their key.</summary>
    public ReleaseBell Bell { get; } = new(options.RedisPrefix);

    /// <summary>The multiplexer when Redis is connected; otherwise null, after marking the mode Degraded.</summary>
    public async ValueTask<IConnectionMultiplexer?> UsableRedisAsync(string key)
    {
        var task = connections.GetRedisAsync();
        if (!task.IsCompleted)
        {
            // First use: wait for the multiplexer once (bounded), then never again.
            try
            {
                await task.WaitAsync(options.ConnectTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException || RedisLockRecord.IsRedisError(ex))
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

    /// <summary>
    /// Takes the gate for <paramref name="ownerId"/>. Returns the usable multiplexer (null: Redis is down, continue
    /// ZooKeeper-only) and the reservation (null: another owner's record is there).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(IConnectionMultiplexer? Redis, GateReservation? Reservation)> TryReserveAsync(string key, string ownerId)
    {
        if (await UsableRedisAsync(key).ConfigureAwait(false) is not { } redis)
        {
            return (null, null);
        }

        var record = RedisLockRecord.RecordKey(options.RedisPrefix, key);
        try
        {
            return await redis.GetDatabase().StringSetAsync(record, ownerId + ":{}", options.RedisLease, When.NotExists).ConfigureAwait(false)
                ? (redis, new GateReservation(redis, record, ownerId))
                : (redis, null);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
        {
            MarkRedisDown(key, ex);
            return (null, null);
        }
    }

    /// <summary>
    /// Takes the gate of <paramref name="shape"/> for <paramref name="ownerId"/>: the lock's record, or a member of the
    /// semaphore's or reader-writer lock's counting set (<see cref="RedisPermitRecord"/>; full = no reservation).
    /// </summary>
    /// <remarks>The lock's gate is returned as it is (no second async layer on every try-once).</remarks>
    public ValueTask<(IConnectionMultiplexer? Redis, GateReservation? Reservation)> TryReserveAsync(string key, LockShape shape, string ownerId) =>
        shape.Kind == LockKind.Mutex ? TryReserveAsync(key, ownerId) : TryReservePermitAsync(key, shape, ownerId);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(IConnectionMultiplexer? Redis, GateReservation? Reservation)> TryReservePermitAsync(string key, LockShape shape, string ownerId)
    {
        if (await UsableRedisAsync(key).ConfigureAwait(false) is not { } redis)
        {
            return (null, null);
        }

        try
        {
            var reserved = await RedisPermitRecord.TryAcquireAsync(redis.GetDatabase(), options.RedisPrefix, key, shape, ownerId, string.Empty, options.RedisLease, counted: false).ConfigureAwait(false) > 0;
            return reserved
                ? (redis, new GateReservation(redis, RedisPermitRecord.Keys(options.RedisPrefix, key, shape).Own, ownerId, RedisPermitRecord.GiveBackScript))
                : (redis, null);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisFailure(ex))
        {
            MarkRedisDown(key, ex);
            return (null, null);
        }
    }

    /// <summary>Writes the granted holder's record over a stale or reserved one (ZooKeeper decided), off the hot path.</summary>
    public void WriteRecord(IConnectionMultiplexer redis, LockHandle handle)
    {
        handle.RedisValue = RedisLockRecord.Value(handle.OwnerId, handle.Key, handle.FencingToken, handle.AcquiredAt, handle.NodePath);
        try
        {
            _ = handle.Shape.Kind == LockKind.Mutex
                ? redis.GetDatabase().StringSetAsync(RedisLockRecord.RecordKey(options.RedisPrefix, handle.Key), handle.RedisValue, options.RedisLease, When.Always, CommandFlags.FireAndForget)
                : RedisPermitRecord.AssertAsync(redis.GetDatabase(), options.RedisPrefix, handle, options.RedisLease, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
        {
            MarkRedisDown(handle.Key, ex);
        }
    }

    /// <summary>Drops the record if it is still the holder's (Lua compare-and-delete) and rings the bell.</summary>
    public void ReleaseRecord(LockHandle handle)
    {
        if (connections.RedisIfCreated is not { IsConnected: true } redis)
        {
            return;
        }

        try
        {
            // Fire-and-forget: commands from this process stay ordered on the multiplexer, and the record is only
            // metadata and a try-once gate.
            _ = handle.Shape.Kind == LockKind.Mutex
                ? RedisLockRecord.ReleaseAsync(redis.GetDatabase(), options.RedisPrefix, handle, CommandFlags.FireAndForget)
                : RedisPermitRecord.ReleaseAsync(redis.GetDatabase(), options.RedisPrefix, handle, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
        {
            MarkRedisDown(handle.Key, ex);
        }
    }

    /// <summary>Most records one watchdog call re-asserts (standalone Redis or Sentinel; a cluster takes one per call).</summary>
    internal const int ReassertBatch = 256;

    /// <summary>
    /// Watchdog tick: re-asserts each held record (extends it, or re-creates it after a flush). Every call is sent at
    /// once (pipelined) and awaited together: on a standalone Redis or a Sentinel group a call covers up to
    /// <see cref="ReassertBatch"/> lock records, so 10,000 held locks cost 40 commands and about one round trip per
    /// period; on a cluster, whose scripts may only touch one slot, each record is its own call, still pipelined.
    /// </summary>
    public async Task ReassertAsync(IReadOnlyList<LockHandle> handles)
    {
        var withRecord = handles.Where(h => h.RedisValue is not null && !h.IsReleased).ToList();
        if (withRecord.Count == 0 || await UsableRedisAsync(withRecord[0].Key).ConfigureAwait(false) is not { } redis)
        {
            return;
        }

        var db = redis.GetDatabase();
        var batch = IsCluster(redis) ? 1 : ReassertBatch;
        var lease = (long)options.RedisLease.TotalMilliseconds;
        var calls = new List<(Task Call, LockHandle[]? Records)>();
        var records = new List<LockHandle>(Math.Min(batch, withRecord.Count));
        try
        {
            foreach (var h in withRecord)
            {
                if (h.Shape.Kind != LockKind.Mutex)
                {
                    calls.Add((RedisPermitRecord.AssertAsync(db, options.RedisPrefix, h, options.RedisLease), null));
                    continue;
                }

                records.Add(h);
                if (records.Count == batch)
                {
                    calls.Add(ReassertMany(db, records, lease));
                    records.Clear();
                }
            }

            if (records.Count > 0)
            {
                calls.Add(ReassertMany(db, records, lease));
            }

            await Task.WhenAll(calls.Select(c => c.Call)).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
        {
            var failed = calls.FirstOrDefault(c => c.Call.IsFaulted).Records?[0] ?? withRecord[0];
            Log.LeaseExtendFailed(logger, failed.Key, ex);
            MarkRedisDown(failed.Key, ex);
            return;
        }

        // Records that vanished (flush, restart): written again, as at the grant.
        foreach (var (call, batchRecords) in calls)
        {
            if (batchRecords is null)
            {
                continue;
            }

            foreach (var gone in (RedisResult[])((Task<RedisResult>)call).Result!)
            {
                var h = batchRecords[(int)gone - 1];
                if (!h.IsReleased)
                {
                    _ = db.StringSetAsync(RedisLockRecord.RecordKey(options.RedisPrefix, h.Key), h.RedisValue, options.RedisLease, When.Always, CommandFlags.FireAndForget);
                }
            }
        }
    }

    private (Task Call, LockHandle[] Records) ReassertMany(IDatabase db, List<LockHandle> records, long lease)
    {
        var keys = new RedisKey[records.Count];
        var args = new RedisValue[records.Count + 1];
        args[0] = lease;
        for (var i = 0; i < records.Count; i++)
        {
            keys[i] = RedisLockRecord.RecordKey(options.RedisPrefix, records[i].Key);
            args[i + 1] = records[i].OwnerId;
        }

        return (db.ScriptEvaluateAsync(RedisLockRecord.ReassertManyScript, keys, args), records.ToArray());
    }

    /// <summary>True for a Redis Cluster, where one script may touch the keys of one slot only.</summary>
    private static bool IsCluster(IConnectionMultiplexer redis)
    {
        foreach (var server in redis.GetServers())
        {
            if (server.ServerType == ServerType.Cluster)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Calls <paramref name="wake"/> with the released node's name when a release of <paramref name="key"/> is published
    /// (for semaphores and reader-writer locks, the shape's <see cref="LockShape.LocalKey"/>); dispose to stop.
    /// </summary>
    public IDisposable? Listen(string key, Action<string?> wake)
    {
        if (connections.RedisIfCreated is not { IsConnected: true } redis)
        {
            return null; // the ZooKeeper watch alone wakes the waiter
        }

        var registration = Bell.Listen(key, wake);
        _ = Bell.EnsureSubscribedAsync(redis);
        return registration;
    }

    public void MarkRedisDown(string key, Exception? ex)
    {
        if (status.Mode == CoordinationHealthMode.Normal)
        {
            Log.RedisDegraded(logger, key, ex);
        }

        if (status.Mode is CoordinationHealthMode.Normal or CoordinationHealthMode.Degraded)
        {
            status.Set(CoordinationHealthMode.Degraded, "Redis is unavailable: locks are decided by ZooKeeper alone.");
        }
    }
}

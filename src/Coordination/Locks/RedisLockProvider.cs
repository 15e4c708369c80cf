using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.Diagnostics;
using Coordination.Keys;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// <see cref="LockMode.RedisOnly"/> (and the unsafe fallback of the hybrid mode): a lease lock on one Redis.
/// </summary>
/// <remarks>
/// Acquire = one Lua call: <c>SET record owner NX PX lease</c> then <c>INCR fence</c> for the fencing token;
/// on failure the script returns the remaining lease. Waiters sleep until the release bell rings for the key or
/// the holder's lease would run out (a crashed holder never rings), never on a fixed poll interval. The watchdog
/// extends the lease every lease/3 while the record is still ours; if it is not, the lock is lost. Weaker than
/// ZooKeeper: a Redis failover or a holder paused longer than the lease can let two holders overlap, and
/// waiters are not served in FIFO order. Semaphores and reader-writer locks use the counting script of
/// <see cref="RedisPermitRecord"/> in the same loop (a waiting writer does not hold readers back here).
/// </remarks>
internal sealed class RedisLockProvider : QueuedLockProvider
{
    private readonly HybridCoordinationOptions _options;
    private readonly CoordinationConnections _connections;
    private readonly CoordinationStatus _status;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ReleaseBell _bell;
    private readonly bool _isFallback;

    public RedisLockProvider(HybridCoordinationOptions options, CoordinationConnections connections, CoordinationStatus status, ILoggerFactory? loggerFactory, TimeProvider? time, ReleaseBell? bell = null, bool isFallback = false)
        : base(options, LockMode.RedisOnly, time ?? TimeProvider.System)
    {
        _options = options;
        _connections = connections;
        _status = status;
        _logger = loggerFactory?.CreateLogger<RedisLockProvider>() ?? (ILogger)NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _bell = bell ?? new ReleaseBell(options.RedisPrefix);
        _isFallback = isFallback;
    }

    protected override ValueTask<LockHandle?> AcquireRemoteAsync(string key, LockShape shape, TimeSpan? remaining, CancellationToken cancellationToken) =>
        AcquireDirectAsync(key, shape, remaining, cancellationToken);

    /// <summary>Acquires without the local queue (the hybrid provider already holds its own).</summary>
    internal async ValueTask<LockHandle?> AcquireDirectAsync(string key, LockShape shape, TimeSpan? remaining, CancellationToken ct)
    {
        ThrowIfDisposed();
        IConnectionMultiplexer redis;
        try
        {
            redis = await _connections.GetRedisAsync().WaitAsync(_options.ConnectTimeout, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || RedisLockRecord.IsRedisError(ex))
        {
            throw Unavailable(key, shape, ex);
        }

        var db = redis.GetDatabase();
        var ownerId = RedisLockRecord.NewOwnerId();
        var record = RedisLockRecord.RecordKey(_options.RedisPrefix, key);
        var acquiredAt = _time.GetUtcNow();
        var value = RedisLockRecord.Value(ownerId, key, 0, acquiredAt, null);
        var deadline = Deadline.After(remaining);
        var lease = (long)_options.RedisLease.TotalMilliseconds;
        var contended = false;
        while (true)
        {
            TaskCompletionSource? wake = null;
            IDisposable? listen = null;
            if (remaining != TimeSpan.Zero)
            {
                // Listen before trying so a release between the try and the wait is not missed.
                wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                listen = _bell.Listen(shape.LocalKey(key), () => wake.TrySetResult());
                try
                {
                    await _bell.EnsureSubscribedAsync(redis).ConfigureAwait(false);
                }
                catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
                {
                    listen.Dispose();
                    throw Unavailable(key, shape, ex);
                }
            }

            using (listen)
            {
                long result;
                try
                {
                    if (shape.Kind == LockKind.Mutex)
                    {
                        var fence = RedisLockRecord.FenceKey(_options.RedisPrefix, key);
                        var script = new { record, value, lease, fence };
                        result = (long)await RedisLockRecord.AcquireScript.EvaluateAsync(db, script).ConfigureAwait(false);
                        if (result == 0)
                        {
                            await SeedFenceAsync(db, key, fence).ConfigureAwait(false);
                            result = (long)await RedisLockRecord.AcquireScript.EvaluateAsync(db, script).ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        result = await RedisPermitRecord.TryAcquireAsync(db, _options.RedisPrefix, key, shape, ownerId, value, _options.RedisLease, counted: true).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
                {
                    throw Unavailable(key, shape, ex);
                }

                if (result > 0)
                {
                    if (!_isFallback && _status.Mode != CoordinationHealthMode.Normal)
                    {
                        _status.Set(CoordinationHealthMode.Normal, null);
                    }

                    var mode = _isFallback ? LockMode.Hybrid : LockMode.RedisOnly;
                    var handle = new LockHandle(key, result, mode, acquiredAt, ownerId, ReleaseAsync) { RedisValue = value, Shape = shape };
                    Track(handle, renewLease: true);
                    Log.LockAcquired(_logger, key, result, LockMode.RedisOnly);
                    return handle;
                }

                if (!contended)
                {
                    contended = true;
                    CoordinationDiagnostics.Contentions.Add(1, LockMode.RedisOnly, key, shape);
                }

                if (wake is null)
                {
                    return null;
                }

                if (deadline.HasPassed)
                {
                    return null;
                }

                var left = deadline.Remaining;

                // Wake on the bell, or when the holder's lease runs out (a crashed holder never rings).
                var leaseLeft = TimeSpan.FromMilliseconds(-result + 1);
                var wait = left == Timeout.InfiniteTimeSpan || leaseLeft < left ? leaseLeft : left;
                try
                {
                    await wake.Task.WaitAsync(wait, _time, ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
        }
    }

    /// <summary>
    /// A key's first acquire after the hash-tag layout: its counter starts at the old-layout counter's value, so
    /// fencing tokens keep growing across the upgrade (a fresh counter would hand out 1, 2... again).
    /// </summary>
    private async Task SeedFenceAsync(IDatabase db, string key, RedisKey fence)
    {
        var legacy = await db.StringGetAsync(RedisLockRecord.LegacyFenceKey(_options.RedisPrefix, key)).ConfigureAwait(false);
        var value = legacy.TryParse(out long last) && last > 0 ? last : 0;
        await RedisLockRecord.SeedFenceScript.EvaluateAsync(db, new { fence, value }).ConfigureAwait(false);
    }

    private LockUnavailableException Unavailable(string key, LockShape shape, Exception ex)
    {
        CoordinationDiagnostics.Unavailable.Add(1, LockMode.RedisOnly, key, shape);
        var transient = RedisLockRecord.IsRedisFailure(ex) || ex is TimeoutException;
        if (!_isFallback && transient)
        {
            _status.Set(CoordinationHealthMode.Unavailable, "Redis is unavailable: no lock is granted (fail closed).");
        }

        // A refused command (wrong type, cross-slot, script error...) is an answer, not an outage: named as such.
        var what = transient ? "is unavailable" : "refused the request";
        var tls = _connections.RedisTlsProblem is { } refused ? $"; {refused}" : string.Empty;
        return new LockUnavailableException($"The {shape.Name} '{key}' cannot be decided: Redis ({Security.Secrets.Redis(_options.Redis)}) {what} ({_connections.Scrub(ex.Message)}{tls}). No lock was granted.", ex);
    }

    /// <summary>
    /// Redis-only watchdog tick: extend each lease that is still ours; one that is not is lost. The extensions are sent
    /// at once (pipelined) and their answers read together: one round trip per tick, not one per lock.
    /// </summary>
    protected override async Task RenewLeasesAsync(IReadOnlyList<LockHandle> handles)
    {
        var redis = _connections.RedisIfCreated;
        var held = handles.Where(h => !h.IsLost).ToList();
        var extensions = new Task<bool>[held.Count];
        for (var i = 0; i < held.Count; i++)
        {
            extensions[i] = ExtendAsync(redis, held[i]);
        }

        try
        {
            await Task.WhenAll(extensions).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
        {
            // each handle's own outcome is looked at below
        }

        for (var i = 0; i < held.Count; i++)
        {
            var h = held[i];
            if (extensions[i].IsCompletedSuccessfully)
            {
                if (!extensions[i].Result)
                {
                    Log.LockLost(_logger, h.Key, h.FencingToken, "its Redis lease expired or was taken over");
                    h.MarkLost();
                }

                continue;
            }

            Log.LeaseExtendFailed(_logger, h.Key, extensions[i].Exception?.InnerException);
            if (_time.GetUtcNow() - h.AcquiredAt > _options.RedisLease / 2)
            {
                // We cannot prove the lease is still ours; it may run out before Redis is back.
                Log.LockLost(_logger, h.Key, h.FencingToken, "its Redis lease could not be extended");
                h.MarkLost();
            }
        }
    }

    private async Task<bool> ExtendAsync(IConnectionMultiplexer? redis, LockHandle h)
    {
        if (redis is null)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "No Redis connection.");
        }

        return h.Shape.Kind == LockKind.Mutex
            ? (long)await RedisLockRecord.ExtendScript.EvaluateAsync(redis.GetDatabase(), new
            {
                record = RedisLockRecord.RecordKey(_options.RedisPrefix, h.Key),
                owner = h.OwnerId,
                lease = (long)_options.RedisLease.TotalMilliseconds,
            }).ConfigureAwait(false) == 1
            : await RedisPermitRecord.ExtendAsync(redis.GetDatabase(), _options.RedisPrefix, h, _options.RedisLease).ConfigureAwait(false);
    }

    private async ValueTask ReleaseAsync(LockHandle handle)
    {
        Untrack(handle);
        var redis = _connections.RedisIfCreated;
        if (redis is null)
        {
            return;
        }

        try
        {
            await (handle.Shape.Kind == LockKind.Mutex
                ? RedisLockRecord.ReleaseAsync(redis.GetDatabase(), _options.RedisPrefix, handle)
                : RedisPermitRecord.ReleaseAsync(redis.GetDatabase(), _options.RedisPrefix, handle)).ConfigureAwait(false);
            Log.LockReleased(_logger, handle.Key, handle.FencingToken);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
        {
            Log.ReleaseFailed(_logger, handle.Key, ex);
        }
    }
}

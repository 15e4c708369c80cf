using System.Globalization;
using System.Text.Json;
using Coordination.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The waits of this process that could become long (their timeout is longer than
/// <see cref="HybridCoordinationOptions.LongWaitWarningAfter"/>, or infinite), so that no wait hangs without a trace:
/// a timer runs while any wait is registered; a wait older than the threshold is marked long once, counted in
/// <c>coordination.lock.long_waits</c>, logged as a warning naming the key, what the waiting flow holds and the holder
/// when known, and listed by <see cref="ILockInspector.GetLongWaits"/> until it ends (granted, timed out, cancelled or
/// failed; a long wait's end is logged too).
/// </summary>
/// <remarks>
/// The holder is this process when its provider holds the key here (then also what the holding flow waits for, if it
/// waits: two such warnings are the two sides of a deadlock, and each says so), else the holders named by the key's
/// Redis record (Hybrid and RedisOnly modes), else unknown. Registration costs one small object and a hash-set insert
/// under a lock, only for waits that did not complete at once; the flow's holds are read only when a wait turns long.
/// </remarks>
internal sealed class LockWaitRegistry : IDisposable
{
    private static readonly string ThisProcess = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "@" + Environment.MachineName;

    private readonly HashSet<Wait> _waits = [];
    private readonly TimeSpan _after;
    private readonly TimeSpan _period;
    private readonly HybridCoordinationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CoordinationConnections? _connections;
    private ITimer? _timer;
    private bool _ticking;
    private bool _disposed;

    public LockWaitRegistry(HybridCoordinationOptions options, TimeProvider? time = null, ILoggerFactory? loggerFactory = null, CoordinationConnections? connections = null)
    {
        _options = options;
        _after = options.LongWaitWarningAfter;
        var quarter = _after == Timeout.InfiniteTimeSpan ? TimeSpan.FromSeconds(1) : _after / 4;
        _period = TimeSpan.FromMilliseconds(Math.Clamp(quarter.TotalMilliseconds, 10, 1000));
        _time = time ?? TimeProvider.System;
        _logger = loggerFactory?.CreateLogger("Coordination.Locks.LongWaits") ?? NullLogger.Instance;
        _connections = connections;
    }

    /// <summary>The container's registry: Redis records are read for holders in the modes that write them.</summary>
    public static LockWaitRegistry Create(IServiceProvider services, IOptions<HybridCoordinationOptions> options, TimeProvider time, ILoggerFactory? loggers)
    {
        var o = options.Value;
        var connections = o.Mode is LockMode.Hybrid or LockMode.RedisOnly ? (CoordinationConnections?)services.GetService(typeof(CoordinationConnections)) : null;
        return new LockWaitRegistry(o, time, loggers, connections);
    }

    /// <summary>True when a wait with <paramref name="timeout"/> (null = none) can outlast the threshold.</summary>
    public bool Watches(TimeSpan? timeout) => _after != Timeout.InfiniteTimeSpan && (timeout is not { } t || t > _after);

    /// <summary>Registers the wait of <paramref name="hold"/>; pass the result to <see cref="Remove"/> when it ends.</summary>
    public Wait Add(FlowHold hold, TimeSpan? timeout)
    {
        var wait = new Wait(hold, _time.GetTimestamp(), timeout);
        lock (_waits)
        {
            _waits.Add(wait);
            if (!_ticking && !_disposed)
            {
                _ticking = true;
                _timer ??= _time.CreateTimer(static s => ((LockWaitRegistry)s!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _timer.Change(_period, _period);
            }
        }

        return wait;
    }

    /// <summary>The wait ended (<paramref name="granted"/> or not); a long one is logged and uncounted.</summary>
    public void Remove(Wait wait, bool granted)
    {
        bool wasLong;
        lock (_waits)
        {
            _waits.Remove(wait);
            wasLong = wait.Long;
            if (wasLong)
            {
                CoordinationDiagnostics.LongWaits.Add(-1, CoordinationDiagnostics.LockTags(wait.Hold.Owner.ProviderMode, wait.Hold.Shape));
            }
        }

        if (wasLong)
        {
            Log.LongWaitEnded(_logger, wait.Hold.Shape.Name, wait.Hold.Key, _time.GetElapsedTime(wait.Start), granted ? "granted" : "not granted");
        }
    }

    /// <summary>The waits that are long now, longest first.</summary>
    public IReadOnlyList<LockWaitInfo> Snapshot()
    {
        lock (_waits)
        {
            return [.. _waits.Where(w => w.Long)
                .Select(w => new LockWaitInfo(w.Hold.Key, w.Hold.Shape.Name, _time.GetElapsedTime(w.Start), w.Timeout, LockFlow.Describe(w.Hold.Next), w.Holder))
                .OrderByDescending(i => i.WaitingFor)];
        }
    }

    private void Tick()
    {
        List<Wait>? turnedLong = null;
        lock (_waits)
        {
            if (_waits.Count == 0)
            {
                _ticking = false;
                _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                return;
            }

            foreach (var w in _waits)
            {
                if (!w.Long && _time.GetElapsedTime(w.Start) >= _after)
                {
                    w.Long = true;
                    CoordinationDiagnostics.LongWaits.Add(1, CoordinationDiagnostics.LockTags(w.Hold.Owner.ProviderMode, w.Hold.Shape));
                    (turnedLong ??= []).Add(w);
                }
            }
        }

        foreach (var w in turnedLong ?? [])
        {
            _ = WarnAsync(w);
        }
    }

    private async Task WarnAsync(Wait wait)
    {
        var hold = wait.Hold;
        string? holder;
        try
        {
            holder = await DescribeHolderAsync(hold).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            holder = null; // diagnostics never fail a wait
        }

        lock (_waits)
        {
            wait.Holder = holder;
        }

        var held = LockFlow.Describe(hold.Next);
        Log.LongWait(
            _logger,
            _time.GetElapsedTime(wait.Start),
            hold.Shape.Name,
            hold.Key,
            wait.Timeout is { } t ? t.ToString("c", CultureInfo.InvariantCulture) : "infinite",
            held.Count == 0 ? "nothing" : string.Join(", ", held),
            holder ?? "unknown");
    }

    private async Task<string?> DescribeHolderAsync(FlowHold wait)
    {
        if (wait.Owner.HoldsInProcess(wait.Key, wait.Shape))
        {
            var waits = new List<string>();
            lock (_waits)
            {
                foreach (var o in _waits)
                {
                    // Another waiting flow of this process holds the key: name what it waits for, and whether that is ours.
                    var other = o.Hold;
                    if (!ReferenceEquals(other, wait) && LockFlow.FindHeld(other.Next, wait.Owner, wait.Key, wait.Shape) is not null)
                    {
                        var cycle = LockFlow.FindHeld(wait.Next, other.Owner, other.Key, other.Shape) is not null;
                        waits.Add(other + (cycle ? ", which the waiting flow holds: a deadlock" : string.Empty));
                    }
                }
            }

            return waits.Count == 0
                ? $"this process ({ThisProcess})"
                : $"this process ({ThisProcess}), by a flow that waits for {string.Join("; ", waits)}";
        }

        return await RedisHoldersAsync(wait.Key, wait.Shape).ConfigureAwait(false);
    }

    /// <summary>The holders named by the key's Redis record(s), or null (no Redis, no record, or Redis did not answer).</summary>
    private async Task<string?> RedisHoldersAsync(string key, LockShape shape)
    {
        if (_connections?.RedisIfCreated is not { } redis)
        {
            return null;
        }

        var db = redis.GetDatabase();
        var prefix = _options.RedisPrefix;
        try
        {
            IEnumerable<RedisValue> values = shape.Kind == LockKind.Mutex
                ? [await db.StringGetAsync(RedisLockRecord.RecordKey(prefix, key)).WaitAsync(_options.OperationTimeout).ConfigureAwait(false)]
                : await db.HashValuesAsync(RedisPermitRecord.Keys(prefix, key, shape).Holders).WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
            var holders = values.Select(v => HolderOf(v)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            return holders.Count == 0 ? null : string.Join(", ", holders);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex) || ex is TimeoutException)
        {
            return null;
        }
    }

    /// <summary>"pid@host (token N)" from a record value <c>&lt;32-hex owner&gt;:&lt;JSON&gt;</c>.</summary>
    private static string? HolderOf(RedisValue value)
    {
        var text = (string?)value;
        if (text is not { Length: > 33 } || text[32] != ':')
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(text.AsMemory(33));
            var r = doc.RootElement;
            if (!r.TryGetProperty("holder", out var h) || h.GetString() is not { } holder)
            {
                return null;
            }

            return r.TryGetProperty("token", out var t) && t.TryGetInt64(out var token) && token > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{holder} (token {token})")
                : holder;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        lock (_waits)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }

    /// <summary>One registered wait: its hold, when it started, its timeout, whether it turned long and the holder then (under the registry's lock).</summary>
    internal sealed class Wait(FlowHold hold, long start, TimeSpan? timeout)
    {
        public FlowHold Hold => hold;

        public long Start => start;

        public TimeSpan? Timeout => timeout;

        public bool Long { get; set; }

        public string? Holder { get; set; }
    }
}

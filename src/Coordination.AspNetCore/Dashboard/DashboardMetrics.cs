using System.Diagnostics.Metrics;
using Coordination.Diagnostics;

namespace Coordination.AspNetCore.Dashboard;

/// <summary>
/// Aggregates the library's own <c>Coordination.Keys</c> meter (the lock instruments with the key) in-process for the
/// dashboard's charts: a ring of 60 time
/// buckets over <see cref="CoordinationDashboardOptions.ChartWindow"/>, each with the acquire-latency histogram, the
/// contention, lost and unavailable counts, and the same per key (tag <c>coordination.lock.key</c>). Memory is
/// bounded: a bucket keeps at most <see cref="MaxKeysPerBucket"/> keys and folds the rest into <see cref="OtherKeys"/>;
/// buckets older than the window are reused.
/// </summary>
/// <remarks>
/// A <see cref="MeterListener"/> sees every measurement of the meter in this process, so two apps hosted in one
/// process share the figures (the meter is static).
/// </remarks>
internal sealed class DashboardMetrics : IDisposable
{
    public const int BucketCount = 60;
    public const int MaxKeysPerBucket = 1000;
    public const string OtherKeys = "(other keys)";

    private const string AcquireDuration = "coordination.lock.acquire.duration";
    private const string Contentions = "coordination.lock.contentions";
    private const string Lost = "coordination.lock.lost";
    private const string Unavailable = "coordination.lock.unavailable";

    private readonly object _gate = new();
    private readonly Bucket?[] _ring = new Bucket?[BucketCount];
    private readonly TimeProvider _time;
    private readonly long _bucketMs;
    private readonly MeterListener _listener = new();

    public DashboardMetrics(TimeSpan window, TimeProvider time)
    {
        _time = time;
        _bucketMs = (long)window.TotalMilliseconds / BucketCount;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == CoordinationDiagnostics.KeysName && instrument.Name is AcquireDuration or Contentions or Lost or Unavailable)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.Start();
    }

    public TimeSpan BucketLength => TimeSpan.FromMilliseconds(_bucketMs);

    private void Record(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? key = null;
        string? kind = null;
        foreach (var t in tags)
        {
            if (t.Key == CoordinationDiagnostics.KeyTag)
            {
                key = t.Value as string;
            }
            else if (t.Key == CoordinationDiagnostics.KindTag)
            {
                kind = t.Value as string;
            }
        }

        lock (_gate)
        {
            var bucket = Current();
            var stats = key is null ? null : bucket.For(key, kind ?? "lock");
            switch (instrument)
            {
                case AcquireDuration:
                    bucket.Acquire.Record(value);
                    stats?.Acquire.Record(value);
                    break;
                case Contentions:
                    bucket.Contentions += (long)value;
                    stats?.AddContentions((long)value);
                    break;
                case Lost:
                    bucket.Lost += (long)value;
                    stats?.AddLost((long)value);
                    break;
                default:
                    bucket.Unavailable += (long)value;
                    break;
            }
        }
    }

    private Bucket Current()
    {
        var number = _time.GetUtcNow().ToUnixTimeMilliseconds() / _bucketMs;
        var slot = (int)(number % BucketCount);
        if (_ring[slot] is not { } b || b.Number != number)
        {
            _ring[slot] = b = new Bucket(number);
        }

        return b;
    }

    /// <summary>The window's series (oldest bucket first) and the <paramref name="busiest"/> keys with their own series.</summary>
    public DashboardMetricsSnapshot Capture(int busiest)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds() / _bucketMs;
            var first = now - BucketCount + 1;
            var buckets = new Bucket?[BucketCount];
            for (var n = first; n <= now; n++)
            {
                var b = _ring[(int)(n % BucketCount)];
                buckets[n - first] = b is not null && b.Number == n ? b : null;
            }

            var points = buckets.Select((b, i) => new DashboardMetricsPoint(
                (first + i) * _bucketMs,
                b?.Acquire.Count ?? 0,
                b?.Acquire.Quantile(0.5),
                b?.Acquire.Quantile(0.99),
                b?.Contentions ?? 0,
                b?.Lost ?? 0,
                b?.Unavailable ?? 0)).ToList();

            var totals = new Dictionary<string, KeyStats>(StringComparer.Ordinal);
            foreach (var b in buckets.OfType<Bucket>())
            {
                foreach (var (key, s) in b.Keys)
                {
                    if (!totals.TryGetValue(key, out var t))
                    {
                        totals[key] = t = new KeyStats(s.Kind);
                    }

                    t.Merge(s);
                }
            }

            var keys = totals
                .OrderByDescending(k => k.Value.Acquire.Count + k.Value.Contentions)
                .ThenBy(k => k.Key, StringComparer.Ordinal)
                .Take(busiest)
                .Select(k => new DashboardKeyMetrics(
                    k.Key,
                    k.Value.Kind,
                    k.Value.Acquire.Count,
                    k.Value.Contentions,
                    k.Value.Lost,
                    k.Value.Acquire.Quantile(0.5),
                    k.Value.Acquire.Quantile(0.99),
                    [.. buckets.Select(b => b?.Keys.GetValueOrDefault(k.Key)?.Acquire.Count ?? 0)],
                    [.. buckets.Select(b => b?.Keys.GetValueOrDefault(k.Key)?.Contentions ?? 0)]))
                .ToList();

            var window = new LatencyHistogram();
            foreach (var b in buckets.OfType<Bucket>())
            {
                window.Add(b.Acquire);
            }

            return new DashboardMetricsSnapshot(
                (long)BucketLength.TotalSeconds,
                points,
                keys,
                new DashboardMetricsTotals(window.Count, window.Quantile(0.5), window.Quantile(0.99), points.Sum(p => p.Contentions), points.Sum(p => p.Lost), points.Sum(p => p.Unavailable)));
        }
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Bucket(long number)
    {
        public long Number { get; } = number;

        public LatencyHistogram Acquire { get; } = new();

        public long Contentions { get; set; }

        public long Lost { get; set; }

        public long Unavailable { get; set; }

        public Dictionary<string, KeyStats> Keys { get; } = new(StringComparer.Ordinal);

        public KeyStats For(string key, string kind)
        {
            if (Keys.TryGetValue(key, out var s))
            {
                return s;
            }

            if (Keys.Count >= MaxKeysPerBucket)
            {
                key = OtherKeys;
                kind = "mixed";
                if (Keys.TryGetValue(key, out s))
                {
                    return s;
                }
            }

            return Keys[key] = new KeyStats(kind);
        }
    }

    private sealed class KeyStats(string kind)
    {
        public string Kind { get; } = kind;

        public LatencyHistogram Acquire { get; } = new();

        public long Contentions { get; private set; }

        public long Lost { get; private set; }

        public void AddContentions(long n) => Contentions += n;

        public void AddLost(long n) => Lost += n;

        public void Merge(KeyStats other)
        {
            Acquire.Add(other.Acquire);
            Contentions += other.Contentions;
            Lost += other.Lost;
        }
    }
}

/// <summary>The charts' data: one point per bucket, oldest first, the busiest keys, and the window's totals.</summary>
internal sealed record DashboardMetricsSnapshot(long BucketSeconds, IReadOnlyList<DashboardMetricsPoint> Points, IReadOnlyList<DashboardKeyMetrics> Keys, DashboardMetricsTotals Totals);

/// <summary>One bucket: its start (Unix ms), successful acquisitions and their p50/p99 in ms (null when none), and the event counts.</summary>
internal sealed record DashboardMetricsPoint(long T, long Acquisitions, double? P50, double? P99, long Contentions, long Lost, long Unavailable);

/// <summary>One of the busiest keys over the window, with its per-bucket acquisitions and contentions.</summary>
internal sealed record DashboardKeyMetrics(string Key, string Kind, long Acquisitions, long Contentions, long Lost, double? P50, double? P99, IReadOnlyList<long> AcquisitionSeries, IReadOnlyList<long> ContentionSeries);

/// <summary>The whole window.</summary>
internal sealed record DashboardMetricsTotals(long Acquisitions, double? P50, double? P99, long Contentions, long Lost, long Unavailable);

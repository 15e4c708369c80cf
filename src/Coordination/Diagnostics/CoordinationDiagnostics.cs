using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Coordination.Diagnostics;

/// <summary>The <c>Coordination</c> meter and activity source and their instruments.</summary>
public static class CoordinationDiagnostics
{
    /// <summary>Name of the meter and the activity source.</summary>
    public const string Name = "Coordination";

    /// <summary>
    /// Name of the meter whose lock instruments also carry the key (<see cref="KeyTag"/>): the same figures as the
    /// <see cref="Name"/> meter's, broken down per key. Keys such as <c>orders:42</c> are unbounded, so exporters do
    /// not get them unless they add this meter by name; the dashboard listens to it in-process.
    /// </summary>
    public const string KeysName = "Coordination.Keys";

    /// <summary>Traces lock acquisition and release.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly Meter KeysMeter = new(KeysName);

    internal static readonly LockHistogram AcquireDuration = new("coordination.lock.acquire.duration", "ms", "Time to acquire a lock, waiting included, for successful acquisitions.");

    internal static readonly LockHistogram WaitDuration = new("coordination.lock.wait.duration", "ms", "Time spent waiting behind another holder.");

    internal static readonly LockHistogram HeldDuration = new("coordination.lock.held.duration", "ms", "Time a lock was held.");

    internal static readonly LockCounter Contentions = new("coordination.lock.contentions", "{contention}", "Acquisitions that found the lock taken.");

    internal static readonly LockCounter Lost = new("coordination.lock.lost", "{lock}", "Held locks that could no longer be trusted.");

    internal static readonly Counter<long> ZooKeeperWrites = Meter.CreateCounter<long>("coordination.lock.zookeeper_writes", "{request}", "ZooKeeper create/delete requests made by the lock engine.");

    internal static readonly Histogram<double> RenewalDuration = Meter.CreateHistogram<double>("coordination.lock.renewal.duration", "ms", "Time one watchdog tick took to renew the Redis records (leases) of every held lock, pipelined.");

    internal static readonly Counter<long> Renewals = Meter.CreateCounter<long>("coordination.lock.renewals", "{lock}", "Held locks whose Redis record (lease) a watchdog tick renewed.");

    internal static readonly LockCounter Unavailable = new("coordination.lock.unavailable", "{request}", "Lock requests refused because the backend could not decide (fail closed).");

    internal static readonly Counter<long> OrphansDeleted = Meter.CreateCounter<long>("coordination.lock.orphans_deleted", "{node}", "Lock nodes whose create had no answer, found by owner id and deleted in the background.");

    internal static readonly LockCounter Reentries = new("coordination.lock.reentries", "{acquisition}", "Acquisitions granted at once from a lock the same async flow already held (nested handles).");

    internal static readonly UpDownCounter<long> LongWaits = Meter.CreateUpDownCounter<long>("coordination.lock.long_waits", "{wait}", "Lock waits of this process going on longer than LongWaitWarningAfter.");

    internal static readonly Counter<long> ElectionTerms = Meter.CreateCounter<long>("coordination.election.terms", "{term}", "Terms won by this instance, per election.");

    internal static readonly Counter<long> ElectionFailovers = Meter.CreateCounter<long>("coordination.election.failovers", "{failover}", "Terms won by taking over from another leader (this instance had waited behind it), per election.");

    internal static readonly Counter<long> ElectionTermsLost = Meter.CreateCounter<long>("coordination.election.terms_lost", "{term}", "Terms that ended without being given up (node deleted, session expired or silent), per election.");

    internal static readonly Histogram<double> ElectionTermDuration = Meter.CreateHistogram<double>("coordination.election.term.duration", "ms", "How long this instance led, per term.");

    /// <summary>Tag of the lock instruments naming the key (lock, semaphore or reader-writer lock).</summary>
    public const string KeyTag = "coordination.lock.key";

    /// <summary>Tag of the lock instruments naming the primitive: <c>lock</c>, <c>semaphore</c>, <c>read</c> or <c>write</c>.</summary>
    public const string KindTag = "coordination.lock.kind";

    /// <summary>The mode tag of every metric; one tag per mode, made once (an enum's ToString boxes it on every call).</summary>
    internal static KeyValuePair<string, object?> ModeTag(Locks.LockMode mode) =>
        (uint)mode < (uint)ModeTags.Length ? ModeTags[(int)mode] : new("mode", mode.ToString());

    private static readonly KeyValuePair<string, object?>[] ModeTags =
        Enum.GetValues<Locks.LockMode>().Order().Select(m => new KeyValuePair<string, object?>("mode", m.ToString())).ToArray();

    /// <summary>The tags of one lock measurement on the <see cref="Name"/> meter: the mode and the primitive.</summary>
    internal static TagList LockTags(Locks.LockMode mode, Locks.LockShape shape) => new()
    {
        ModeTag(mode),
        { KindTag, KindName(shape.Kind) },
    };

    /// <summary>The same, plus the key, for the <see cref="KeysName"/> meter.</summary>
    internal static TagList KeyedLockTags(Locks.LockMode mode, string key, Locks.LockShape shape) => new()
    {
        ModeTag(mode),
        { KeyTag, key },
        { KindTag, KindName(shape.Kind) },
    };

    /// <summary>A lock counter on both meters; the per-key one costs nothing while nobody listens to it.</summary>
    internal sealed class LockCounter(string name, string unit, string description)
    {
        private readonly Counter<long> _plain = Meter.CreateCounter<long>(name, unit, description);
        private readonly Counter<long> _keyed = KeysMeter.CreateCounter<long>(name, unit, description + " Per key.");

        public void Add(long value, Locks.LockMode mode, string key, Locks.LockShape shape)
        {
            _plain.Add(value, LockTags(mode, shape));
            if (_keyed.Enabled)
            {
                _keyed.Add(value, KeyedLockTags(mode, key, shape));
            }
        }
    }

    /// <summary>A lock histogram on both meters; the per-key one costs nothing while nobody listens to it.</summary>
    internal sealed class LockHistogram(string name, string unit, string description)
    {
        private readonly Histogram<double> _plain = Meter.CreateHistogram<double>(name, unit, description);
        private readonly Histogram<double> _keyed = KeysMeter.CreateHistogram<double>(name, unit, description + " Per key.");

        public void Record(double value, Locks.LockMode mode, string key, Locks.LockShape shape)
        {
            _plain.Record(value, LockTags(mode, shape));
            if (_keyed.Enabled)
            {
                _keyed.Record(value, KeyedLockTags(mode, key, shape));
            }
        }
    }

    internal static string KindName(Locks.LockKind kind) => kind switch
    {
        Locks.LockKind.Semaphore => "semaphore",
        Locks.LockKind.Read => "read",
        Locks.LockKind.Write => "write",
        _ => "lock",
    };
}

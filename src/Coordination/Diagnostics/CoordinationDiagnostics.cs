using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Coordination.Diagnostics;

/// <summary>The <c>Coordination</c> meter and activity source and their instruments.</summary>
public static class CoordinationDiagnostics
{
    /// <summary>Name of the meter and the activity source.</summary>
    public const string Name = "Coordination";

    /// <summary>Traces lock acquisition and release.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly Histogram<double> AcquireDuration = Meter.CreateHistogram<double>("coordination.lock.acquire.duration", "ms", "Time to acquire a lock, waiting included, for successful acquisitions.");

    internal static readonly Histogram<double> WaitDuration = Meter.CreateHistogram<double>("coordination.lock.wait.duration", "ms", "Time spent waiting behind another holder.");

    internal static readonly Histogram<double> HeldDuration = Meter.CreateHistogram<double>("coordination.lock.held.duration", "ms", "Time a lock was held.");

    internal static readonly Counter<long> Contentions = Meter.CreateCounter<long>("coordination.lock.contentions", "{contention}", "Acquisitions that found the lock taken.");

    internal static readonly Counter<long> Lost = Meter.CreateCounter<long>("coordination.lock.lost", "{lock}", "Held locks that could no longer be trusted.");

    internal static readonly Counter<long> ZooKeeperWrites = Meter.CreateCounter<long>("coordination.lock.zookeeper_writes", "{request}", "ZooKeeper create/delete requests made by the lock engine.");

    internal static readonly Histogram<double> RenewalDuration = Meter.CreateHistogram<double>("coordination.lock.renewal.duration", "ms", "Time one watchdog tick took to renew the Redis records (leases) of every held lock, pipelined.");

    internal static readonly Counter<long> Renewals = Meter.CreateCounter<long>("coordination.lock.renewals", "{lock}", "Held locks whose Redis record (lease) a watchdog tick renewed.");

    internal static readonly Counter<long> Unavailable = Meter.CreateCounter<long>("coordination.lock.unavailable", "{request}", "Lock requests refused because the backend could not decide (fail closed).");

    internal static readonly Counter<long> OrphansDeleted = Meter.CreateCounter<long>("coordination.lock.orphans_deleted", "{node}", "Lock nodes whose create had no answer, found by owner id and deleted in the background.");

    internal static readonly Counter<long> ElectionTerms = Meter.CreateCounter<long>("coordination.election.terms", "{term}", "Terms won by this instance, per election.");

    internal static readonly Counter<long> ElectionFailovers = Meter.CreateCounter<long>("coordination.election.failovers", "{failover}", "Terms won by taking over from another leader (this instance had waited behind it), per election.");

    internal static readonly Counter<long> ElectionTermsLost = Meter.CreateCounter<long>("coordination.election.terms_lost", "{term}", "Terms that ended without being given up (node deleted, session expired or silent), per election.");

    internal static readonly Histogram<double> ElectionTermDuration = Meter.CreateHistogram<double>("coordination.election.term.duration", "ms", "How long this instance led, per term.");

    /// <summary>The mode tag of every metric; one tag per mode, made once (an enum's ToString boxes it on every call).</summary>
    internal static KeyValuePair<string, object?> ModeTag(Locks.LockMode mode) =>
        (uint)mode < (uint)ModeTags.Length ? ModeTags[(int)mode] : new("mode", mode.ToString());

    private static readonly KeyValuePair<string, object?>[] ModeTags =
        Enum.GetValues<Locks.LockMode>().Order().Select(m => new KeyValuePair<string, object?>("mode", m.ToString())).ToArray();
}

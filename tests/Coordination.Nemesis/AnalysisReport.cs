using System.Globalization;
using System.Text;

namespace Coordination.Nemesis;

/// <summary>What <see cref="LogAnalyser"/> found in one run's logs, and how it prints.</summary>
internal sealed class AnalysisReport
{
    /// <summary>The primitive these lines exercised (<see cref="NemesisPrimitive"/>).</summary>
    public string Primitive { get; init; } = NemesisPrimitive.Lock;
    public required double TicksPerSecond { get; init; }
    public required IReadOnlyList<LockHold> Holds { get; init; }
    /// <summary>Safety violations: each is a reason to fail the run.</summary>
    public required IReadOnlyList<string> Violations { get; init; }
    /// <summary>Overlaps excused because the older holder was frozen (SIGSTOP) when the newer was granted, with what happened after it resumed.</summary>
    public required IReadOnlyList<string> PausedOverlaps { get; init; }
    /// <summary>Nested acquires of a held key granted at once with the holder's token (lock and write holders).</summary>
    public int NestedAcquires { get; init; }
    public required int TokenOrderViolations { get; init; }
    public required long? RefereeCount { get; init; }
    public required int FencedAccepted { get; init; }
    public required int FencedRejected { get; init; }
    public required int FencedUnresolved { get; init; }
    public required int UnfencedLostUpdates { get; init; }
    public required int UnfencedWrites { get; init; }
    public required IReadOnlyList<FaultRecovery> Faults { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<long>> AcquireFailures { get; init; }
    public required double WedgeBoundSeconds { get; init; }
    /// <summary>Faults the schedule did not apply (budget spent, no holder to pause...).</summary>
    public required int Skipped { get; init; }

    public bool CounterExact => RefereeCount == FencedAccepted && FencedUnresolved == 0;

    /// <summary>The referee count is explained by the logs: at least every logged acceptance, at most those plus the unresolved calls.</summary>
    public bool CounterConsistent => RefereeCount is { } n && n >= FencedAccepted && n <= FencedAccepted + FencedUnresolved;

    public int Wedged => Faults.Count(f => f.Wedged);

    public bool SafetyPassed => Violations.Count == 0 && TokenOrderViolations == 0 && CounterConsistent;

    public bool Passed => SafetyPassed && Wedged == 0;

    public string Summary(string profile)
    {
        var counter = RefereeCount is null ? "missing"
            : CounterExact ? $"exact({RefereeCount})"
            : CounterConsistent ? $"consistent({RefereeCount}, {FencedUnresolved} unresolved)"
            : $"WRONG(referee={RefereeCount}, accepted={FencedAccepted}, unresolved={FencedUnresolved})";
        var liveness = Wedged == 0 ? "" : " " + string.Join(' ', Faults.Where(f => f.Wedged).GroupBy(f => f.Kind).Select(g => $"wedged-{g.Key}={g.Count()}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"nemesis: profile={profile} primitive={Primitive} faults={Faults.Count}{(Skipped == 0 ? "" : $" skipped={Skipped}")} grants={Holds.Count}{(NestedAcquires == 0 ? "" : $" nested={NestedAcquires}")} violations={Violations.Count} token-order={(TokenOrderViolations == 0 ? "ok" : TokenOrderViolations + " out of order")} counter={counter} fenced-rejected={FencedRejected} unfenced-lost-updates={UnfencedLostUpdates}/{UnfencedWrites} paused-overlaps={PausedOverlaps.Count} wedged={Wedged}{liveness} {(Passed ? "PASS" : "FAIL")}");
    }

    public string Table()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"| fault | repetitions | recovered | recovery p50 | recovery max | wedged (no grant within {WedgeBoundSeconds:0.#} s) |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var group in Faults.GroupBy(f => f.Kind))
        {
            var times = group.Where(f => !f.Wedged && f.Recovery is not null).Select(f => f.Recovery!.Value).Order().ToList();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {group.Key} | {group.Count()} | {times.Count} | {Seconds(Percentile(times, 0.5))} | {Seconds(times.Count == 0 ? null : times[^1])} | {group.Count(f => f.Wedged)} |");
        }

        return text.ToString();
    }

    public string Details()
    {
        var text = new StringBuilder();
        foreach (var fault in Faults)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  fault #{fault.Id} {fault.Kind}: lasted {Seconds(fault.End - fault.Start)}, next grant {(fault.Recovery is { } r ? Seconds(r) + " after its end" : "never")}{(fault.Wedged ? " — WEDGED" : "")}");
        }

        foreach (var (error, times) in AcquireFailures)
        {
            var sorted = times.Order().ToList();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  acquire failed with {error}: {sorted.Count} times, after p50 {sorted[sorted.Count / 2]} ms, max {sorted[^1]} ms");
        }

        foreach (var line in PausedOverlaps)
        {
            text.AppendLine("  paused holder: " + line);
        }

        foreach (var line in Violations.Take(20))
        {
            text.AppendLine("  VIOLATION: " + line);
        }

        if (Violations.Count > 20)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  ... and {Violations.Count - 20} more violations");
        }

        return text.ToString();
    }

    /// <summary>Every primitive's table and details, then one summary line each (the lines <c>eng/nemesis.sh</c> shows last).</summary>
    public static string Print(IReadOnlyList<AnalysisReport> reports, string profile)
    {
        var text = new StringBuilder();
        foreach (var report in reports)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"== {report.Primitive}");
            text.Append(report.Table()).Append(report.Details());
        }

        foreach (var report in reports)
        {
            text.AppendLine(report.Summary(profile));
        }

        return text.ToString();
    }

    public string Seconds(long? ticks) => ticks is { } t ? (t / TicksPerSecond).ToString("0.00", CultureInfo.InvariantCulture) + " s" : "—";

    private static long? Percentile(List<long> sorted, double p) =>
        sorted.Count == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}

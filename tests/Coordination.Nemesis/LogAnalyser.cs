using System.Diagnostics;
using System.Globalization;

namespace Coordination.Nemesis;

/// <summary>
/// Judges a nemesis run from its logs alone.
/// </summary>
/// <remarks>
/// Clock: every line carries <see cref="Stopwatch.GetTimestamp"/>, CLOCK_MONOTONIC on Linux, shared by all
/// processes on the machine. Each timestamp is taken on the side that makes a safety check harder to trip, so a
/// reported violation is real:
/// <code>
/// granted        taken after AcquireAsync returned          (later than the real grant: shortens holds)
/// release-start  taken before DisposeAsync is called         (the holder's own code stops relying on the lock here)
/// lost           taken inside the LostToken callback          (a paused process runs it, and writes it, after SIGCONT)
/// worker-kill    taken by the orchestrator before SIGKILL     (the process can do little after it ...)
/// worker-dead    taken after the killed process has exited    (... and nothing after this)
/// sigstop        taken after /proc shows the worker stopped   (frozen from here ...)
/// sigcont        taken before SIGCONT is sent                 (... to here, at least)
/// </code>
/// A task believes it holds from <c>granted</c> until the first of release-start, lost, its process's kill (its death,
/// for a grant logged between the kill line and the signal landing), the end of the run. Rules:
/// <list type="bullet">
/// <item><b>Violation</b>: B is granted while another task A still believes it holds a grant B excludes, and A's process
/// was running at that moment — A was neither told (lost) nor released, yet could act on the lock. What excludes what
/// depends on the primitive (each judged on its own lines, <see cref="NemesisPrimitive"/>): a lock or an election term
/// excludes everything; a write hold excludes reads and writes, reads share; a semaphore of N permits is violated when
/// B is granted while N running tasks hold.</item>
/// <item><b>Paused overlap</b> (reported, not a violation): A's process was frozen by SIGSTOP at B's grant, or had been
/// resumed for less than the resume bound (default 2 s). A frozen process executes nothing, so no lock can tell it
/// anything, and once resumed it races its own code to learn the session is gone; the documented defence is
/// fencing. It is a violation if A neither gets its lost signal within the resume bound after its task ran again
/// (its first line after SIGCONT, or the start of the action it logs; a resumed process can take a while to schedule
/// a continuation when every timer of the freeze falls due at once, and a task that has not run cannot act) before
/// it starts releasing, nor stops holding within that bound with no fenced write made after the freeze accepted: a
/// resumed process may finish and release before its client has even noticed the session is gone (a race it can win
/// by milliseconds), and that is fine as long as the fence stopped its write. The report shows how long after SIGCONT the signal came and what A's fenced
/// write got.</item>
/// <item><b>Token order</b>: fencing tokens strictly increase in grant order (lock, election). A reader-writer lock
/// grants readers together, so only around writes: every grant before a write has a smaller token, every grant after
/// it a larger one. A semaphore's concurrent grants may log in any order, so its tokens must only be unique.</item>
/// <item><b>Counter</b>: the referee's count (read by the orchestrator, logged as <c>referee</c>) equals the accepted
/// fenced increments the workers logged; a call whose answer was never logged (killed, timed out) is
/// <i>unresolved</i> and may or may not have counted, so the count must lie in [accepted, accepted + unresolved].</item>
/// <item><b>Unfenced lost updates</b> (reported): two read-modify-writes of the victim counter from different tasks whose
/// [read, logged] windows overlap and that read the same value.</item>
/// <item><b>Nested acquires</b>: an exclusive holder of the lock or the write lock takes its key again (locks are
/// re-entrant per flow): each must be granted at once with the holder's own token (<c>nested</c>); one that waited, got
/// another token or failed (<c>nested-failed</c>) is a violation. The holder disposes it before its fenced write, so a
/// nested dispose that released the lock would show up as an overlap.</item>
/// <item><b>Recovery</b>: per fault, the time from its end to the next grant by anyone; none within the wedge bound = a
/// wedged key (a liveness failure).</item>
/// </list>
/// </remarks>
internal static class LogAnalyser
{
    /// <summary>
    /// How long a resumed holder may take to get its lost signal, unless told otherwise. Two seconds: a clean-clone
    /// CI run saw a resumed worker process (7 tasks, on 2 cores shared with 4 other workers and 8 JVMs) run nothing
    /// for a second after SIGCONT, so its signal came 1.02 s later (its fenced write was refused).
    /// </summary>
    public static readonly TimeSpan DefaultResumeBound = TimeSpan.FromSeconds(2);

    /// <summary>One report per primitive that has lines in the logs (the lock first).</summary>
    public static IReadOnlyList<AnalysisReport> AnalyseDirectory(string directory, TimeSpan wedgeBound, TimeSpan? resumeBound = null)
    {
        var events = Directory.EnumerateFiles(directory, "*.log").SelectMany(f => NemesisEvent.ParseLines(File.ReadLines(f))).ToList();
        var present = events.Select(e => NemesisPrimitive.Of(e.Source)).Where(p => p is not null).ToHashSet();
        return NemesisPrimitive.All.Where(present.Contains).Select(p => Analyse(events, wedgeBound, resumeBound, p)).ToList();
    }

    public static AnalysisReport Analyse(IEnumerable<NemesisEvent> events, TimeSpan wedgeBound, TimeSpan? resumeBound = null, string primitive = NemesisPrimitive.Lock)
    {
        resumeBound ??= DefaultResumeBound;
        // The primitive's own task lines, plus the orchestrator's and the processes' (faults, kills, pauses); the
        // referee line of another primitive's counter is not ours.
        var all = events
            .Where(e => (NemesisPrimitive.Of(e.Source) ?? primitive) == primitive && (e.Name != "referee" || (e.Field("prim") ?? NemesisPrimitive.Lock) == primitive))
            .OrderBy(e => e.Timestamp)
            .ToList();
        var frequency = all.FirstOrDefault(e => e.Name == "run-start")?.Field("freq") is { } f
            ? double.Parse(f, CultureInfo.InvariantCulture)
            : Stopwatch.Frequency;
        var runEnd = all.Count == 0 ? 0 : all[^1].Timestamp;
        var bound = (long)(wedgeBound.TotalSeconds * frequency);

        var kills = all.Where(e => e.Name == "worker-kill").GroupBy(e => e.Field("worker") ?? "").ToDictionary(g => g.Key, g => g.Min(e => e.Timestamp));
        var deaths = all.Where(e => e.Name == "worker-dead").GroupBy(e => e.Field("worker") ?? "").ToDictionary(g => g.Key, g => g.Min(e => e.Timestamp));
        var frozen = FrozenWindows(all);
        var holds = Holds(all, kills, deaths, runEnd, frozen);
        var violations = new List<string>();
        var paused = new List<string>();
        CheckOverlaps(holds, frozen, all, frequency, (long)(resumeBound.Value.TotalSeconds * frequency), violations, paused);
        var tokenOrder = primitive switch
        {
            NemesisPrimitive.Semaphore => CheckTokensUnique(holds, violations),
            NemesisPrimitive.ReaderWriter => CheckTokenOrderAroundWrites(holds, frequency, violations),
            _ => CheckTokenOrder(holds, frequency, violations),
        };

        var nested = CheckNested(all, violations);
        var fencedStarts = all.Where(e => e.Name == "fenced-start").Select(e => (e.Worker, Seq: e.Field("seq"))).ToHashSet();
        var fenced = all.Where(e => e.Name == "fenced").ToList();
        var answered = fenced.Where(e => e.Field("result") is "accepted" or "rejected").Select(e => (e.Worker, Seq: e.Field("seq"))).ToHashSet();
        var faults = Faults(all, holds, bound);
        var (lostUpdates, writes) = UnfencedLostUpdates(all);
        return new AnalysisReport
        {
            Primitive = primitive,
            TicksPerSecond = frequency,
            Holds = holds,
            Violations = violations,
            NestedAcquires = nested,
            PausedOverlaps = paused,
            TokenOrderViolations = tokenOrder,
            RefereeCount = all.LastOrDefault(e => e.Name == "referee")?.LongField("count"),
            FencedAccepted = fenced.Count(e => e.Field("result") == "accepted"),
            FencedRejected = fenced.Count(e => e.Field("result") == "rejected"),
            FencedUnresolved = fencedStarts.Count(s => !answered.Contains(s)),
            UnfencedLostUpdates = lostUpdates,
            UnfencedWrites = writes,
            Faults = faults,
            AcquireFailures = all.Where(e => e.Name == "acquire-failed")
                .GroupBy(e => e.Field("error") ?? "?")
                .ToDictionary(g => g.Key, g => (IReadOnlyList<long>)g.Select(e => e.LongField("ms")).ToList()),
            WedgeBoundSeconds = wedgeBound.TotalSeconds,
            Skipped = all.Count(e => e.Name == "fault-skipped"),
        };
    }

    /// <summary>Counts the nested grants; a nested acquire that waited, got another token or failed is a violation.</summary>
    private static int CheckNested(List<NemesisEvent> all, List<string> violations)
    {
        var granted = 0;
        foreach (var e in all.Where(e => e.Name is "nested" or "nested-failed"))
        {
            var token = e.LongField("token");
            if (e.Name == "nested-failed")
            {
                violations.Add($"{e.Source} holding token {token}: the nested acquire of its own key failed ({e.Field("error")}: {e.Field("why")})");
            }
            else if (e.LongField("nested") != token || e.LongField("at-once") != 1)
            {
                violations.Add($"{e.Source} holding token {token}: the nested acquire of its own key got token {e.LongField("nested")}{(e.LongField("at-once") == 1 ? "" : " after waiting")}");
            }
            else
            {
                granted++;
            }
        }

        return granted;
    }

    private static List<LockHold> Holds(List<NemesisEvent> all, Dictionary<string, long> kills, Dictionary<string, long> deaths, long runEnd, Dictionary<string, List<(long From, long To)>> frozen)
    {
        var acquireStart = new Dictionary<string, long>(StringComparer.Ordinal);
        var grants = all.Where(e => e.Name == "granted").Select(e => (e.Worker, e.Timestamp, Token: e.LongField("token"))).ToList();
        var open = new Dictionary<(string Task, long Token), (long Granted, long? Lost)>();
        var closed = new List<(string Task, long Token, long Granted, long? ReleaseStart, long? Lost)>();
        var modes = new Dictionary<(string Task, long Token), (string Mode, int Permits)>();
        foreach (var e in all)
        {
            switch (e.Name)
            {
                case "acquire-start":
                    acquireStart[e.Source] = e.Timestamp;
                    break;
                case "granted":
                    open[(e.Source, e.LongField("token"))] = (GrantedNoLaterThan(e, acquireStart, frozen, grants), null);
                    modes[(e.Source, e.LongField("token"))] = (e.Field("mode") ?? "x", e.Field("max") is null ? 1 : (int)e.LongField("max"));
                    break;
                case "lost":
                    var key = (e.Source, e.LongField("token"));
                    // A lost signal after release-start belongs to no belief: the holder had already let go.
                    if (open.TryGetValue(key, out var o))
                    {
                        open[key] = (o.Granted, o.Lost ?? e.Timestamp);
                    }

                    break;
                case "release-start":
                    var releaseKey = (e.Source, e.LongField("token"));
                    if (open.Remove(releaseKey, out var held))
                    {
                        closed.Add((releaseKey.Source, releaseKey.Item2, held.Granted, e.Timestamp, held.Lost));
                    }

                    break;
            }
        }

        closed.AddRange(open.Select(kv => (kv.Key.Task, kv.Key.Token, kv.Value.Granted, (long?)null, kv.Value.Lost)));
        return closed
            .Select(h =>
            {
                var end = Math.Min(h.ReleaseStart ?? long.MaxValue, h.Lost ?? long.MaxValue);
                var worker = h.Task.Split('.')[0];
                if (kills.TryGetValue(worker, out var killed))
                {
                    // Granted before the kill: it held until the kill at most. Granted in the moment between the
                    // kill line and the signal landing: until the process was seen dead (or its grant, in older logs).
                    end = Math.Min(end, killed >= h.Granted ? killed : deaths.TryGetValue(worker, out var dead) && dead >= h.Granted ? dead : h.Granted);
                }

                var (mode, permits) = modes[(h.Task, h.Token)];
                return new LockHold(h.Task, h.Token, h.Granted, h.ReleaseStart, h.Lost, Math.Min(end, runEnd), mode, permits);
            })
            .OrderBy(h => h.Granted)
            .ToList();
    }

    // A grant logged after SIGCONT for an acquire begun before SIGSTOP was decided before the freeze (the process
    // stopped between the decision and the log line) when another process was granted a newer node during the freeze
    // (a node made after the freeze would be newer still): it counts from the SIGSTOP, so it is judged as a frozen
    // holder rather than as a fresh grant beside the holders of the freeze.
    private static long GrantedNoLaterThan(NemesisEvent granted, Dictionary<string, long> acquireStart, Dictionary<string, List<(long From, long To)>> frozen, List<(string Worker, long Timestamp, long Token)> grants)
    {
        if (acquireStart.TryGetValue(granted.Source, out var started) && frozen.TryGetValue(granted.Worker, out var windows))
        {
            var token = granted.LongField("token");
            foreach (var (from, to) in windows)
            {
                if (started < from && to < granted.Timestamp
                    && grants.Any(g => g.Worker != granted.Worker && g.Timestamp > from && g.Timestamp < to && g.Token > token))
                {
                    return Math.Min(granted.Timestamp, from);
                }
            }
        }

        return granted.Timestamp;
    }

    private static Dictionary<string, List<(long From, long To)>> FrozenWindows(List<NemesisEvent> all)
    {
        var windows = new Dictionary<string, List<(long, long)>>(StringComparer.Ordinal);
        var stopped = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in all)
        {
            var worker = e.Field("worker");
            if (worker is null)
            {
                continue;
            }

            if (e.Name == "sigstop")
            {
                stopped[worker] = e.Timestamp;
            }
            else if (e.Name == "sigcont" && stopped.Remove(worker, out var from))
            {
                Add(worker, from, e.Timestamp);
            }
        }

        foreach (var (worker, from) in stopped)
        {
            Add(worker, from, long.MaxValue);
        }

        return windows;

        void Add(string worker, long from, long to)
        {
            if (!windows.TryGetValue(worker, out var list))
            {
                windows[worker] = list = [];
            }

            list.Add((from, to));
        }
    }

    private static void CheckOverlaps(List<LockHold> holds, Dictionary<string, List<(long From, long To)>> frozen, List<NemesisEvent> all, double frequency, long resumeBound, List<string> violations, List<string> paused)
    {
        var active = new List<LockHold>();
        var excused = new Dictionary<LockHold, (long Frozen, long Resumed, int Grants)>();
        foreach (var b in holds)
        {
            active.RemoveAll(a => a.End <= b.Granted);
            var running = new List<LockHold>();
            var frozenHolders = new List<(LockHold Hold, (long From, long To) Window)>();
            foreach (var a in active.Where(a => a.Task != b.Task && !a.SharesWith(b)))
            {
                if (FrozenWindowAt(frozen, a.Worker, b.Granted, resumeBound) is { } window)
                {
                    frozenHolders.Add((a, window));
                }
                else
                {
                    running.Add(a);
                }
            }

            // A lock, an election term or a write excludes every other holder; a semaphore only N at once.
            var free = b.Mode == "s" ? b.Permits - 1 : 0;
            if (running.Count > free)
            {
                foreach (var a in running)
                {
                    violations.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{b.Task} granted token {b.Token}{Describe(b)} while {a.Task} (token {a.Token}{Describe(a)}, granted {(b.Granted - a.Granted) * 1000 / frequency:0} ms earlier, running) had neither released nor been signalled lost{(b.Mode == "s" ? $" ({running.Count} running holders of {b.Permits} permits)" : "")}"));
                }
            }

            if (running.Count + frozenHolders.Count > free)
            {
                // The frozen holders are what make this grant an overlap: judged by what they learn once resumed.
                foreach (var (a, window) in frozenHolders)
                {
                    excused[a] = (window.From, window.To, excused.GetValueOrDefault(a).Grants + 1);
                }
            }

            active.Add(b);
        }

        foreach (var (a, (frozenAt, resumed, grants)) in excused)
        {
            // Judged from when the task itself ran again: a resumed process may take a while to schedule a given
            // continuation (every timer of the freeze falls due at once), and a task that has not run cannot act.
            var ranAgain = all.Where(e => e.Source == a.Task && e.Timestamp > resumed && e.Name != "lost") // the signal is not the task's doing
                .Select(e => e.Field("t0") is null || e.LongField("t0") <= resumed ? e.Timestamp : e.LongField("t0")) // an action begun before the freeze shows only when it ends
                .DefaultIfEmpty(resumed)
                .Min();
            ranAgain = Math.Max(ranAgain, resumed);
            // For the report: when anything of that process ran (a late task in a prompt process points at the task).
            var processRan = all.Where(e => e.Worker == a.Worker && e.Source != e.Worker && e.Timestamp > resumed && e.Name != "lost")
                .Select(e => e.Timestamp)
                .DefaultIfEmpty(ranAgain)
                .Min();
            // Only a fenced write made after the freeze began can be one that should have been refused. Made = its
            // fenced-start: a write sent just before the SIGSTOP reaches Redis while the holder still holds, and only
            // its reply is read after SIGCONT (accepted then means applied before any higher token).
            var writes = all.Where(e => e.Name == "fenced" && e.Source == a.Task && e.LongField("token") == a.Token && e.Timestamp > frozenAt
                    && !all.Any(s => s.Name == "fenced-start" && s.Source == a.Task && s.Field("seq") == e.Field("seq") && s.Timestamp < frozenAt))
                .ToList();
            var fencedWrite = writes.Any(e => e.Field("result") == "accepted") ? "accepted" : writes.FirstOrDefault()?.Field("result") ?? "none";
            var toldMs = a.Lost is { } l ? (l - resumed) * 1000 / frequency : (double?)null;
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{a.Task} (token {a.Token}) frozen by SIGSTOP while {grants} grants went to others; lost signal {(toldMs is { } ms ? $"{ms:0} ms after SIGCONT" : "NEVER")}{(ranAgain > resumed ? $", the task ran again {(ranAgain - resumed) * 1000 / frequency:0} ms after SIGCONT" : "")}{(processRan < ranAgain ? $" (its process after {(processRan - resumed) * 1000 / frequency:0} ms)" : "")}; its fenced write after the freeze: {fencedWrite}");
            paused.Add(line);
            var toldInTime = a.Lost is { } lost && lost - ranAgain <= resumeBound && !(a.ReleaseStart is { } r && r < lost);
            // Released within the bound before the signal could arrive: the resumed process won the race against its
            // client's detection and stopped holding; acceptable unless a fenced write of it got through the fence.
            var releasedInTime = a.ReleaseStart is { } release && release - ranAgain <= resumeBound;
            if (!toldInTime && !(releasedInTime && fencedWrite != "accepted"))
            {
                violations.Add("paused holder not signalled lost within the resume bound, before it released: " + line);
            }
        }
    }

    private static string Describe(LockHold hold) => hold.Mode switch
    {
        "r" => " (read)",
        "w" => " (write)",
        _ => "",
    };

    // The frozen window (SIGSTOP, SIGCONT) that covers the instant, when the worker was frozen then or had been
    // resumed for less than the bound (a resumed process needs a moment to learn its session is gone).
    private static (long From, long To)? FrozenWindowAt(Dictionary<string, List<(long From, long To)>> frozen, string worker, long instant, long resumeBound)
    {
        if (frozen.TryGetValue(worker, out var windows))
        {
            foreach (var (from, to) in windows)
            {
                if (from <= instant && (to == long.MaxValue || instant <= to + resumeBound))
                {
                    return (from, to);
                }
            }
        }

        return null;
    }

    private static int CheckTokenOrder(List<LockHold> holds, double frequency, List<string> violations)
    {
        var count = 0;
        for (var i = 1; i < holds.Count; i++)
        {
            if (holds[i].Token <= holds[i - 1].Token)
            {
                count++;
                violations.Add(string.Create(CultureInfo.InvariantCulture,
                    $"token order: {holds[i].Task} got token {holds[i].Token} {(holds[i].Granted - holds[i - 1].Granted) * 1000 / frequency:0} ms after {holds[i - 1].Task} got {holds[i - 1].Token}"));
            }
        }

        return count;
    }

    private static int CheckTokensUnique(List<LockHold> holds, List<string> violations)
    {
        var duplicates = holds.GroupBy(h => h.Token).Where(g => g.Count() > 1).ToList();
        foreach (var group in duplicates)
        {
            violations.Add(string.Create(CultureInfo.InvariantCulture, $"token {group.Key} granted {group.Count()} times: {string.Join(", ", group.Select(h => h.Task))}"));
        }

        return duplicates.Count;
    }

    private static int CheckTokenOrderAroundWrites(List<LockHold> holds, double frequency, List<string> violations)
    {
        var count = CheckTokensUnique(holds, violations);
        long highest = long.MinValue, lastWrite = long.MinValue;
        LockHold? highestHold = null, lastWriteHold = null;
        foreach (var h in holds)
        {
            var before = h.Mode == "r" ? lastWriteHold : highestHold;
            if (before is not null && h.Token <= (h.Mode == "r" ? lastWrite : highest))
            {
                count++;
                violations.Add(string.Create(CultureInfo.InvariantCulture,
                    $"token order: {h.Task} got token {h.Token}{Describe(h)} {(h.Granted - before.Granted) * 1000 / frequency:0} ms after {before.Task} got {before.Token}{Describe(before)}"));
            }

            if (h.Token > highest)
            {
                (highest, highestHold) = (h.Token, h);
            }

            if (h.Mode != "r")
            {
                (lastWrite, lastWriteHold) = (h.Token, h);
            }
        }

        return count;
    }

    private static List<FaultRecovery> Faults(List<NemesisEvent> all, List<LockHold> holds, long bound)
    {
        var starts = all.Where(e => e.Name == "fault-start").ToDictionary(e => e.LongField("id"));
        var grants = holds.Select(h => h.Granted).ToArray(); // sorted
        var faults = new List<FaultRecovery>();
        foreach (var end in all.Where(e => e.Name == "fault-end"))
        {
            var id = end.LongField("id");
            var start = starts.TryGetValue(id, out var s) ? s.Timestamp : end.Timestamp;
            var index = Array.BinarySearch(grants, end.Timestamp + 1);
            index = index < 0 ? ~index : index;
            long? next = index < grants.Length ? grants[index] : null;
            var wedged = next is null || next - end.Timestamp > bound;
            faults.Add(new FaultRecovery(end.Field("fault") ?? "?", (int)id, start, end.Timestamp, next, wedged));
        }

        return faults;
    }

    private static (int LostUpdates, int Writes) UnfencedLostUpdates(List<NemesisEvent> all)
    {
        var rmws = all.Where(e => e.Name == "rmw").Select(e => (e.Source, From: e.LongField("t0"), To: e.Timestamp, Read: e.LongField("read")))
            .OrderBy(r => r.From).ToList();
        var lost = 0;
        for (var i = 0; i < rmws.Count; i++)
        {
            for (var j = i + 1; j < rmws.Count && rmws[j].From <= rmws[i].To; j++)
            {
                if (rmws[j].Source != rmws[i].Source && rmws[j].Read == rmws[i].Read)
                {
                    lost++;
                }
            }
        }

        return (lost, rmws.Count);
    }
}

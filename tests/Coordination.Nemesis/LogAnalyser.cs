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
/// worker-kill    taken by the orchestrator before SIGKILL     (the process can do nothing after it)
/// sigstop        taken after /proc shows the worker stopped   (frozen from here ...)
/// sigcont        taken before SIGCONT is sent                 (... to here, at least)
/// </code>
/// A task believes it holds from <c>granted</c> until the first of release-start, lost, its process's kill, the end of
/// the run. Rules:
/// <list type="bullet">
/// <item><b>Violation</b>: B is granted while another task A still believes it holds, and A's process was running at that
/// moment — A was neither told (lost) nor released, yet could act on the lock.</item>
/// <item><b>Paused overlap</b> (reported, not a violation): A's process was frozen by SIGSTOP at B's grant, or had been
/// resumed for less than the resume bound (default 1 s). A frozen process executes nothing, so no lock can tell it
/// anything, and once resumed it races its own code to learn the session is gone; the documented defence is
/// fencing. It is a violation if A neither gets its lost signal within the resume bound after SIGCONT (before it
/// starts releasing) nor stops holding within that bound with its fenced write refused: a resumed process may finish
/// and release before its client has even noticed the session is gone (a race it can win by milliseconds), and that
/// is fine as long as the fence stopped its write. The report shows how long after SIGCONT the signal came and what A's fenced
/// write got.</item>
/// <item><b>Token order</b>: fencing tokens strictly increase in grant order.</item>
/// <item><b>Counter</b>: the referee's count (read by the orchestrator, logged as <c>referee</c>) equals the accepted
/// fenced increments the workers logged; a call whose answer was never logged (killed, timed out) is
/// <i>unresolved</i> and may or may not have counted, so the count must lie in [accepted, accepted + unresolved].</item>
/// <item><b>Unfenced lost updates</b> (reported): two read-modify-writes of the victim counter from different tasks whose
/// [read, logged] windows overlap and that read the same value.</item>
/// <item><b>Recovery</b>: per fault, the time from its end to the next grant by anyone; none within the wedge bound = a
/// wedged key (a liveness failure).</item>
/// </list>
/// </remarks>
internal static class LogAnalyser
{
    /// <summary>How long a resumed holder may take to get its lost signal, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultResumeBound = TimeSpan.FromSeconds(1);

    public static AnalysisReport AnalyseDirectory(string directory, TimeSpan wedgeBound, TimeSpan? resumeBound = null) =>
        Analyse(Directory.EnumerateFiles(directory, "*.log").SelectMany(f => NemesisEvent.ParseLines(File.ReadLines(f))), wedgeBound, resumeBound);

    public static AnalysisReport Analyse(IEnumerable<NemesisEvent> events, TimeSpan wedgeBound, TimeSpan? resumeBound = null)
    {
        resumeBound ??= DefaultResumeBound;
        var all = events.OrderBy(e => e.Timestamp).ToList();
        var frequency = all.FirstOrDefault(e => e.Name == "run-start")?.Field("freq") is { } f
            ? double.Parse(f, CultureInfo.InvariantCulture)
            : Stopwatch.Frequency;
        var runEnd = all.Count == 0 ? 0 : all[^1].Timestamp;
        var bound = (long)(wedgeBound.TotalSeconds * frequency);

        var kills = all.Where(e => e.Name == "worker-kill").GroupBy(e => e.Field("worker") ?? "").ToDictionary(g => g.Key, g => g.Min(e => e.Timestamp));
        var frozen = FrozenWindows(all);
        var holds = Holds(all, kills, runEnd);
        var violations = new List<string>();
        var paused = new List<string>();
        CheckOverlaps(holds, frozen, all, frequency, (long)(resumeBound.Value.TotalSeconds * frequency), violations, paused);
        var tokenOrder = CheckTokenOrder(holds, frequency, violations);

        var fencedStarts = all.Where(e => e.Name == "fenced-start").Select(e => (e.Worker, Seq: e.Field("seq"))).ToHashSet();
        var fenced = all.Where(e => e.Name == "fenced").ToList();
        var answered = fenced.Where(e => e.Field("result") is "accepted" or "rejected").Select(e => (e.Worker, Seq: e.Field("seq"))).ToHashSet();
        var faults = Faults(all, holds, bound);
        var (lostUpdates, writes) = UnfencedLostUpdates(all);
        return new AnalysisReport
        {
            TicksPerSecond = frequency,
            Holds = holds,
            Violations = violations,
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

    private static List<LockHold> Holds(List<NemesisEvent> all, Dictionary<string, long> kills, long runEnd)
    {
        var open = new Dictionary<(string Task, long Token), (long Granted, long? Lost)>();
        var closed = new List<(string Task, long Token, long Granted, long? ReleaseStart, long? Lost)>();
        foreach (var e in all)
        {
            switch (e.Name)
            {
                case "granted":
                    open[(e.Source, e.LongField("token"))] = (e.Timestamp, null);
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
                if (kills.TryGetValue(h.Task.Split('.')[0], out var killed) && killed >= h.Granted)
                {
                    end = Math.Min(end, killed);
                }

                return new LockHold(h.Task, h.Token, h.Granted, h.ReleaseStart, h.Lost, Math.Min(end, runEnd));
            })
            .OrderBy(h => h.Granted)
            .ToList();
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
        var excused = new Dictionary<LockHold, (long Resumed, int Grants)>();
        foreach (var b in holds)
        {
            active.RemoveAll(a => a.End <= b.Granted);
            foreach (var a in active.Where(a => a.Task != b.Task))
            {
                if (FrozenWindowAt(frozen, a.Worker, b.Granted, resumeBound) is { } resumed)
                {
                    excused[a] = (resumed, excused.GetValueOrDefault(a).Grants + 1);
                }
                else
                {
                    violations.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{b.Task} granted token {b.Token} while {a.Task} (token {a.Token}, granted {(b.Granted - a.Granted) * 1000 / frequency:0} ms earlier, running) had neither released nor been signalled lost"));
                }
            }

            active.Add(b);
        }

        foreach (var (a, (resumed, grants)) in excused)
        {
            var fencedWrite = all.FirstOrDefault(e => e.Name == "fenced" && e.Source == a.Task && e.LongField("token") == a.Token)?.Field("result") ?? "none";
            var toldMs = a.Lost is { } l ? (l - resumed) * 1000 / frequency : (double?)null;
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{a.Task} (token {a.Token}) frozen by SIGSTOP while {grants} grants went to others; lost signal {(toldMs is { } ms ? $"{ms:0} ms after SIGCONT" : "NEVER")}; its fenced write: {fencedWrite}");
            paused.Add(line);
            var toldInTime = a.Lost is { } lost && lost - resumed <= resumeBound && !(a.ReleaseStart is { } r && r < lost);
            // Released within the bound before the signal could arrive: the resumed process won the race against its
            // client's detection and stopped holding; acceptable unless a fenced write of it got through the fence.
            var releasedInTime = a.ReleaseStart is { } release && release - resumed <= resumeBound;
            if (!toldInTime && !(releasedInTime && fencedWrite != "accepted"))
            {
                violations.Add("paused holder not signalled lost within the resume bound, before it released: " + line);
            }
        }
    }

    // The SIGCONT time of the window that covers the instant, when the worker was frozen then or had been resumed
    // for less than the bound (a resumed process needs a moment to learn its session is gone).
    private static long? FrozenWindowAt(Dictionary<string, List<(long From, long To)>> frozen, string worker, long instant, long resumeBound)
    {
        if (frozen.TryGetValue(worker, out var windows))
        {
            foreach (var (from, to) in windows)
            {
                if (from <= instant && (to == long.MaxValue || instant <= to + resumeBound))
                {
                    return to;
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

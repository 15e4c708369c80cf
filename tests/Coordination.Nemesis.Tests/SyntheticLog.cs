namespace Coordination.Nemesis.Tests;

/// <summary>Builds a run's events by hand; one tick is one millisecond (run-start declares freq=1000).</summary>
internal sealed class SyntheticLog
{
    private readonly List<NemesisEvent> _events = [NemesisEvent.Create(0, NemesisEvent.Orchestrator, "run-start", ("freq", 1000))];

    public SyntheticLog Add(long ms, string source, string name, params (string, object)[] fields)
    {
        _events.Add(NemesisEvent.Create(ms, source, name, fields));
        return this;
    }

    /// <summary>A complete hold with a fenced increment that was accepted.</summary>
    public SyntheticLog Hold(string task, long token, long granted, long releaseStart, string mode = "x", int max = 1) =>
        Add(granted, task, "granted", ("token", token), ("mode", mode), ("max", max))
            .Add(granted + 1, task, "fenced-start", ("token", token), ("seq", token))
            .Add(granted + 2, task, "fenced", ("token", token), ("seq", token), ("result", "accepted"))
            .Add(releaseStart, task, "release-start", ("token", token))
            .Add(releaseStart + 1, task, "released", ("token", token));

    public SyntheticLog Fault(int id, string kind, long start, long end) =>
        Add(start, NemesisEvent.Orchestrator, "fault-start", ("fault", kind), ("id", id))
            .Add(end, NemesisEvent.Orchestrator, "fault-end", ("fault", kind), ("id", id));

    public SyntheticLog Referee(long count, string primitive = NemesisPrimitive.Lock) =>
        Add(_events.Max(e => e.Timestamp) + 1, NemesisEvent.Orchestrator, "referee", ("prim", primitive), ("count", count));

    /// <summary>Round-trips every event through its text line, as the real logs do.</summary>
    public AnalysisReport Analyse(double wedgeBoundSeconds = 15, string primitive = NemesisPrimitive.Lock) =>
        LogAnalyser.Analyse(NemesisEvent.ParseLines(_events.Select(e => e.Format())), TimeSpan.FromSeconds(wedgeBoundSeconds), primitive: primitive);
}

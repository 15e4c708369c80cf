namespace Coordination.Nemesis;

/// <summary>A fault schedule and its timings. Quorum loss repeats because its orphan needs a reply lost in flight.</summary>
internal sealed record NemesisProfile(
    string Name,
    IReadOnlyList<string> Schedule,
    TimeSpan Settle,
    TimeSpan QuorumDown,
    TimeSpan LeaderDown,
    TimeSpan RedisDown,
    TimeSpan Budget)
{
    public const string QuorumLoss = "quorum-loss";
    public const string PauseHolder = "pause-holder";
    public const string LeaderStop = "leader-stop";
    public const string RedisFlush = "redis-flush";
    public const string RedisRestart = "redis-restart";
    public const string KillWorker = "kill-worker";

    /// <summary>
    /// Under 3 minutes: quorum loss three times, a pause per primitive (they rotate), two kills (the leader's process
    /// first), the rest once; faults past the budget are skipped (and reported).
    /// </summary>
    public static readonly NemesisProfile Short = new(
        "short",
        [QuorumLoss, PauseHolder, QuorumLoss, KillWorker, PauseHolder, QuorumLoss, LeaderStop, PauseHolder, RedisFlush, KillWorker, RedisRestart, PauseHolder],
        Settle: TimeSpan.FromSeconds(1),
        QuorumDown: TimeSpan.FromSeconds(3),
        LeaderDown: TimeSpan.FromSeconds(2),
        RedisDown: TimeSpan.FromSeconds(3),
        Budget: TimeSpan.FromSeconds(100)); // with a wedged key every fault waits the full bound; keep the run under 3 minutes

    /// <summary>About 10–15 minutes: quorum loss twelve times, pauses six times, the others three times each, longer outages.</summary>
    public static readonly NemesisProfile Long = new(
        "long",
        [.. Enumerable.Range(0, 3).SelectMany(_ => new[]
        {
            QuorumLoss, PauseHolder, QuorumLoss, LeaderStop, PauseHolder, QuorumLoss, RedisFlush, RedisRestart, QuorumLoss, KillWorker,
        })],
        Settle: TimeSpan.FromSeconds(5),
        QuorumDown: TimeSpan.FromSeconds(6),
        LeaderDown: TimeSpan.FromSeconds(4),
        RedisDown: TimeSpan.FromSeconds(6),
        Budget: TimeSpan.FromMinutes(13));

    public static NemesisProfile Named(string name) => name switch
    {
        "short" => Short,
        "long" => Long,
        _ => throw new ArgumentException($"--profile '{name}' is not 'short' or 'long'."),
    };
}

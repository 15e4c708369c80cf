namespace WebApp.Jobs;

/// <summary>One finished job run.</summary>
public sealed record JobRun(string Job, string Instance, long FencingToken, DateTimeOffset FinishedAt);

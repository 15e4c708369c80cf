using Coordination;
using Coordination.Hangfire;

namespace WebApp.Jobs;

/// <summary>The Hangfire jobs of the sample: a recurring singleton and a report job showing skip and reschedule.</summary>
public sealed partial class SampleJobs(InstanceInfo instance, JobRunLog runs, ILogger<SampleJobs> logger)
{
    /// <summary>The recurring job's id.</summary>
    public const string HeartbeatId = "webapp-heartbeat";

    /// <summary>
    /// Runs every minute on whichever server picks it up; <c>[Singleton]</c> skips a run while another is in progress
    /// and coalesces triggers, so two instances never run it twice for one occurrence.
    /// </summary>
    [Singleton("jobs:heartbeat")]
    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var token = JobLockContext.Current?.FencingToken ?? 0;
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        runs.Add("heartbeat", instance.Name, token);
        Ran(logger, "heartbeat", token);
    }

    /// <summary>A slow report; a second one enqueued while it runs is skipped (ends Deleted, reason "skipped: ...").</summary>
    [Singleton("jobs:report")]
    public Task ReportSkipAsync(int seconds, CancellationToken cancellationToken) => RunReportAsync("report (skip)", seconds, cancellationToken);

    /// <summary>The same report; a second one enqueued while it runs goes back to Scheduled and runs 15 s later.</summary>
    [DistributedLock("jobs:report", OnContention = LockContention.Reschedule, RescheduleDelay = "00:00:15")]
    public Task ReportRescheduleAsync(int seconds, CancellationToken cancellationToken) => RunReportAsync("report (reschedule)", seconds, cancellationToken);

    private async Task RunReportAsync(string name, int seconds, CancellationToken cancellationToken)
    {
        var token = JobLockContext.Current?.FencingToken ?? 0;
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        runs.Add(name, instance.Name, token);
        Ran(logger, name, token);
    }

    [LoggerMessage(EventId = 9010, Level = LogLevel.Information, Message = "Job {Job} ran with fencing token {FencingToken}")]
    private static partial void Ran(ILogger logger, string job, long fencingToken);
}

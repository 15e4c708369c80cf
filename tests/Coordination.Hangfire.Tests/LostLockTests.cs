using Coordination.Hangfire.Tests.Infrastructure;
using Coordination.Testing;
using Hangfire;
using Hangfire.States;

namespace Coordination.Hangfire.Tests;

// The servers' own cancellation check runs every 5 minutes here, so only the filter's immediate abort can cancel the
// job within the polling deadline.
[Collection(HangfireCollection.Name)]
public sealed class LostLockTests(HangfireFixture fixture)
{
    [Fact]
    public async Task LostLock_CancelsTheJobsCancellationToken_AndFailsTheJob()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        var probe = Probe.For(run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.WaitsForCancellation(run, CancellationToken.None));
        await Poll.UntilAsync(() => probe.Started.IsSet, "the job to start");
        fixture.Locks.MarkLost("lost:" + run);

        var state = await HangfireFixture.WaitForStateAsync(storage, id, FailedState.StateName);
        await Poll.UntilAsync(() => probe.Current == 0, "the job to stop");

        Assert.True(probe.JobTokenCancelled);
        Assert.True(probe.LockTokenCancelled);
        Assert.StartsWith($"lock 'lost:{run}' lost", state.Reason, StringComparison.Ordinal);
        Assert.Contains(nameof(JobLockLostException), state.Data["ExceptionType"], StringComparison.Ordinal);
        await Poll.UntilAsync(() => fixture.Locks.LiveHandles("lost:" + run) == 0, "the lost lock to be released");
    }

    [Fact]
    public async Task LostLock_AbortsAJobPollingIJobCancellationToken()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        var probe = Probe.For(run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.ChecksJobCancellationToken(run, JobCancellationToken.Null));
        await Poll.UntilAsync(() => probe.Started.IsSet, "the job to start");
        fixture.Locks.MarkLost("lostjobtoken:" + run);

        await HangfireFixture.WaitForStateAsync(storage, id, FailedState.StateName);
        await Poll.UntilAsync(() => probe.JobTokenCancelled, "the job's IJobCancellationToken to fire");
        await Poll.UntilAsync(() => fixture.Locks.LiveHandles("lostjobtoken:" + run) == 0, "the lost lock to be released");
    }

    [Fact]
    public async Task LostLock_CancelsAnAsyncJobsToken()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        var probe = Probe.For(run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.WaitsForCancellationAsync(run, CancellationToken.None));
        await Poll.UntilAsync(() => probe.Started.IsSet, "the job to start");
        fixture.Locks.MarkLost("lostasync:" + run);

        await HangfireFixture.WaitForStateAsync(storage, id, FailedState.StateName);
        await Poll.UntilAsync(() => probe.JobTokenCancelled, "the async job's token to fire");
    }
}

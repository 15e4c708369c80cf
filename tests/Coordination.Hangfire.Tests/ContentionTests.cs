using Coordination.Hangfire.Tests.Infrastructure;
using Coordination.Locks;
using Coordination.Testing;
using Hangfire;
using Hangfire.States;

namespace Coordination.Hangfire.Tests;

[Collection(HangfireCollection.Name)]
public sealed class ContentionTests(HangfireFixture fixture)
{
    [Fact]
    public async Task Skip_WhenLockHeld_EndsDeletedWithTheReasonInHistory()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        await using var held = await fixture.Locks.AcquireAsync("skip:" + run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.SkipOnContention(run));
        var state = await HangfireFixture.WaitForStateAsync(storage, id, DeletedState.StateName);

        Assert.Equal($"skipped: lock 'skip:{run}' held", state.Reason);
        Assert.Contains(HangfireFixture.History(storage, id), h => h.StateName == DeletedState.StateName && h.Reason == $"skipped: lock 'skip:{run}' held");
        Assert.Equal(0, Probe.For(run).Runs);
    }

    [Fact]
    public async Task Reschedule_WhenLockHeld_GoesBackToScheduled_ThenRunsAfterRelease()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        var held = await fixture.Locks.AcquireAsync("reschedule:" + run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.RescheduleOnContention(run));
        var state = await HangfireFixture.WaitForStateAsync(storage, id, ScheduledState.StateName);
        Assert.Equal($"rescheduled in 00:00:01: lock 'reschedule:{run}' held", state.Reason);
        Assert.Equal(0, Probe.For(run).Runs);

        await held.DisposeAsync();
        await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);

        Assert.Equal(1, Probe.For(run).Runs);
        Assert.Contains(HangfireFixture.History(storage, id), h => h.StateName == ScheduledState.StateName && h.Reason == state.Reason);
    }

    [Fact]
    public async Task Fail_WhenLockHeld_FailsSoThatRetryApplies()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        await using var held = await fixture.Locks.AcquireAsync("fail:" + run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.FailOnContention(run));
        var state = await HangfireFixture.WaitForStateAsync(storage, id, ScheduledState.StateName);

        Assert.StartsWith("Retry attempt 1 of 1", state.Reason, StringComparison.Ordinal);
        var failed = Assert.Single(HangfireFixture.History(storage, id), h => h.StateName == FailedState.StateName);
        Assert.Contains(nameof(JobLockNotAcquiredException), failed.Data["ExceptionType"], StringComparison.Ordinal);
        Assert.Contains($"lock 'fail:{run}' is held", failed.Data["ExceptionMessage"], StringComparison.Ordinal);
        Assert.Equal(0, Probe.For(run).Runs);
    }

    [Fact]
    public async Task Wait_WhenLockHeld_RunsAfterTheHolderFinishes()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var a = HangfireFixture.StartServer(storage, "a");
        using var b = HangfireFixture.StartServer(storage, "b");
        var client = new BackgroundJobClient(storage);
        var probe = Probe.For(run);

        var first = client.Enqueue(() => TestJobs.WaitOnContention(run, "first"));
        await Poll.UntilAsync(() => probe.Started.IsSet, "the first job to start");
        var second = client.Enqueue(() => TestJobs.WaitOnContention(run, "second"));
        await HangfireFixture.WaitForStateAsync(storage, second, ProcessingState.StateName);
        Assert.Equal(1, probe.Runs); // the second job is waiting for the lock, not running

        probe.Gate.Set();
        await HangfireFixture.WaitForStateAsync(storage, first, SucceededState.StateName);
        await HangfireFixture.WaitForStateAsync(storage, second, SucceededState.StateName);

        Assert.Equal(["enter:first", "exit:first", "enter:second", "exit:second"], probe.Events.ToArray());
    }

    [Fact]
    public async Task Wait_WhenLockStaysHeldPastTheTimeout_Fails()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        await using var held = await fixture.Locks.AcquireAsync("waitshort:" + run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.WaitBriefly(run));
        var state = await HangfireFixture.WaitForStateAsync(storage, id, FailedState.StateName);

        Assert.Contains(nameof(JobLockNotAcquiredException), state.Data["ExceptionType"], StringComparison.Ordinal);
        Assert.Contains("waited 00:00:00.2000000", state.Data["ExceptionMessage"], StringComparison.Ordinal);
        Assert.Equal(0, Probe.For(run).Runs);
    }

    [Fact]
    public async Task LockUnavailable_FailsTheJob_WithoutRunningIt()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        fixture.Locks.FailWith("unavailable:" + run, new LockUnavailableException("ZooKeeper is unreachable"));
        try
        {
            var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.Guarded(run));
            var state = await HangfireFixture.WaitForStateAsync(storage, id, FailedState.StateName);

            Assert.Contains(nameof(LockUnavailableException), state.Data["ExceptionType"], StringComparison.Ordinal);
            Assert.Equal(0, Probe.For(run).Runs);
        }
        finally
        {
            fixture.Locks.FailWith("unavailable:" + run, null);
        }
    }

    [Fact]
    public async Task CoreSingletonAttributeWithSkip_IsHonouredOnJobs()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        await using var held = await fixture.Locks.AcquireAsync("aspect:" + run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.AspectMarked(run));
        var state = await HangfireFixture.WaitForStateAsync(storage, id, DeletedState.StateName);

        Assert.Equal($"skipped: lock 'aspect:{run}' held", state.Reason);
        Assert.Equal(0, Probe.For(run).Runs);
    }
}

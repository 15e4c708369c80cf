using Coordination.Hangfire.Tests.Infrastructure;
using Coordination.Testing;
using Hangfire;
using Hangfire.States;

namespace Coordination.Hangfire.Tests;

[Collection(HangfireCollection.Name)]
public sealed class ExclusionTests(HangfireFixture fixture)
{
    [Fact]
    public async Task SameKeyJobs_OnTwoServers_NeverOverlap()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var a = HangfireFixture.StartServer(storage, "a");
        using var b = HangfireFixture.StartServer(storage, "b");
        var client = new BackgroundJobClient(storage);

        var ids = Enumerable.Range(0, 8).Select(n => client.Enqueue(() => TestJobs.SameKey(run, n))).ToList();
        foreach (var id in ids)
        {
            await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);
        }

        var probe = Probe.For(run);
        Assert.Equal(8, probe.Runs);
        Assert.Equal(1, probe.MaxConcurrent);
        var servers = ids.Select(id => HangfireFixture.History(storage, id).First(h => h.StateName == ProcessingState.StateName).Data["ServerId"]).Distinct().Count();
        Assert.Equal(2, servers); // both servers took part
        Assert.Equal(0, fixture.Locks.LiveHandles("same:" + run));
    }

    [Fact]
    public async Task AJobTakingItsOwnKeyAgain_GetsANestedHandle_InsteadOfWaitingForItself()
    {
        TestJobs.Locks = fixture.Locks;
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "nested", workers: 1);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.NestedAsync(run));
        await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);

        var tokens = Probe.For(run).FencingTokens.ToArray();
        Assert.Equal(2, tokens.Length);
        Assert.True(tokens[0] > 0);
        Assert.Equal(tokens[0], tokens[1]); // the job's own lock, nested
        Assert.Equal(0, fixture.Locks.LiveHandles("nested:" + run));
    }

    [Fact]
    public async Task JobsWithMaxConcurrencyTwo_OnTwoServers_RunAtMostTwoAtATime()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var a = HangfireFixture.StartServer(storage, "a");
        using var b = HangfireFixture.StartServer(storage, "b");
        var client = new BackgroundJobClient(storage);

        var ids = Enumerable.Range(0, 8).Select(n => client.Enqueue(() => TestJobs.Throttled(run, n))).ToList();
        foreach (var id in ids)
        {
            await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);
        }

        var probe = Probe.For(run);
        Assert.Equal(8, probe.Runs);
        Assert.Equal(2, probe.MaxConcurrent);
    }

    [Fact]
    public async Task DifferentKeyJobs_RunInParallel()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var a = HangfireFixture.StartServer(storage, "a");
        using var b = HangfireFixture.StartServer(storage, "b");
        var client = new BackgroundJobClient(storage);

        var first = client.Enqueue(() => TestJobs.DifferentKeys(run, 1));
        var second = client.Enqueue(() => TestJobs.DifferentKeys(run, 2));
        await HangfireFixture.WaitForStateAsync(storage, first, SucceededState.StateName);
        await HangfireFixture.WaitForStateAsync(storage, second, SucceededState.StateName);

        Assert.Equal(2, Probe.For(run).MaxConcurrent);
    }

    [Fact]
    public async Task FencingToken_IsVisibleToTheJob_AndGrowsWithEachRun()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        var client = new BackgroundJobClient(storage);

        var first = client.Enqueue(() => TestJobs.FencedAsync(run));
        await HangfireFixture.WaitForStateAsync(storage, first, SucceededState.StateName);
        var second = client.Enqueue(() => TestJobs.FencedAsync(run));
        await HangfireFixture.WaitForStateAsync(storage, second, SucceededState.StateName);

        var seen = Probe.For(run).FencingTokens.ToArray();
        var issued = fixture.Locks.Issued.Where(i => i.Key == "fenced:" + run).Select(i => i.Token).ToArray();
        Assert.Equal(issued, seen);
        Assert.Equal(2, seen.Length);
        Assert.True(seen[1] > seen[0], $"fencing tokens {seen[0]} then {seen[1]}");
    }

    [Fact]
    public async Task JobException_ReleasesTheLock_AndTheNextJobGetsItAtOnce()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        var client = new BackgroundJobClient(storage);

        var id = client.Enqueue(() => TestJobs.Throws(run));
        var state = await HangfireFixture.WaitForStateAsync(storage, id, FailedState.StateName);

        Assert.Contains("job failed on purpose", state.Data["ExceptionMessage"], StringComparison.Ordinal);
        Assert.Equal(0, fixture.Locks.LiveHandles("throws:" + run));
        await using var next = await fixture.Locks.Inner.TryAcquireAsync("throws:" + run, TimeSpan.Zero);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task ServerShutdown_CancelsTheJob_AndReleasesTheLock()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        var server = HangfireFixture.StartServer(storage, "a");
        var client = new BackgroundJobClient(storage);

        client.Enqueue(() => TestJobs.BlocksUntilShutdown(run, CancellationToken.None));
        await Poll.UntilAsync(() => Probe.For(run).Started.IsSet, "the job to start");
        Assert.Equal(1, fixture.Locks.LiveHandles("shutdown:" + run));

        server.Dispose();

        Assert.Equal(0, fixture.Locks.LiveHandles("shutdown:" + run));
        await using var next = await fixture.Locks.Inner.TryAcquireAsync("shutdown:" + run, TimeSpan.Zero);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task ServerShutdown_WhileAJobWaitsForItsLock_StopsTheWaitWithoutFailingTheJob()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        var server = HangfireFixture.StartServer(storage, "a");
        await using var held = await fixture.Locks.AcquireAsync("wait:" + run);

        var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.WaitOnContention(run, "second"));
        await HangfireFixture.WaitForStateAsync(storage, id, ProcessingState.StateName);
        server.Dispose();

        Assert.Contains("wait:" + run, fixture.Locks.CancelledWaits);
        Assert.Equal(ProcessingState.StateName, HangfireFixture.State(storage, id)!.Name); // re-queued for the next server, not failed
        Assert.Equal(0, Probe.For(run).Runs);
        Assert.Equal(1, fixture.Locks.LiveHandles("wait:" + run)); // only the test's own handle
    }

    [Fact]
    public async Task RecurringJob_TriggeredOnTwoServersAtOnce_RunsOnce()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        var recurringId = "nightly-" + run;
        new RecurringJobManager(storage).AddOrUpdate(recurringId, () => TestJobs.Nightly(run), Cron.Never());

        // Two nodes fire the same occurrence at the same moment.
        using var go = new ManualResetEventSlim();
        var triggers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            go.Wait();
            return new RecurringJobManager(storage).TriggerJob(recurringId);
        })).ToArray();
        go.Set();
        var ids = await Task.WhenAll(triggers);
        Assert.Equal(2, ids.Distinct().Count());

        using var a = HangfireFixture.StartServer(storage, "a");
        using var b = HangfireFixture.StartServer(storage, "b");
        var finals = new List<global::Hangfire.Storage.StateData>();
        foreach (var id in ids)
        {
            finals.Add(await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName, DeletedState.StateName));
        }

        Assert.Equal(1, Probe.For(run).Runs);
        Assert.Single(finals, s => s.Name == SucceededState.StateName);
        var skipped = Assert.Single(finals, s => s.Name == DeletedState.StateName);
        Assert.StartsWith("skipped: ", skipped.Reason, StringComparison.Ordinal);
    }
}

using Coordination.Hangfire.Tests.Infrastructure;
using Coordination.Locks;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Hangfire.Tests;

[Collection(HangfireCollection.Name)]
public sealed class RegistrationTests(HangfireFixture fixture)
{
    [Fact]
    public void UseHybridCoordination_WithServiceProvider_ResolvesTheLockProviderFromDI()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHybridCoordination(HangfireFixture.ConfigureLocks);
        using var sp = services.BuildServiceProvider();
        try
        {
            GlobalConfiguration.Configuration.UseHybridCoordination(sp);

            Assert.Same(sp.GetRequiredService<IDistributedLockProvider>(), JobLockEngine.Current!.Provider);
            Assert.Single(GlobalJobFilters.Filters, f => f.Instance is HybridCoordinationJobFilter);
        }
        finally
        {
            fixture.Register();
        }
    }

    [Fact]
    public void UseHybridCoordination_WithoutRegisteredProvider_SaysWhatToCall()
    {
        using var sp = new ServiceCollection().BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => GlobalConfiguration.Configuration.UseHybridCoordination(sp));

        Assert.Contains("AddHybridCoordination", ex.Message, StringComparison.Ordinal);
        Assert.Same(fixture.Locks, JobLockEngine.Current!.Provider);
    }

    [Fact]
    public void UseHybridCoordination_WithInvalidOption_NamesTheOptionAndValue()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => GlobalConfiguration.Configuration.UseHybridCoordination(fixture.Locks, o => o.DefaultRescheduleDelay = TimeSpan.Zero));

        Assert.Contains("DefaultRescheduleDelay '00:00:00'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LockedJob_OnServerWithoutRegistration_FailsInsteadOfRunningUnguarded()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        JobLockEngine.Current = null;
        try
        {
            var id = new BackgroundJobClient(storage).Enqueue(() => TestJobs.Guarded(run));
            var state = await HangfireFixture.WaitForStateAsync(storage, id, FailedState.StateName);

            Assert.Contains("UseHybridCoordination", state.Data["ExceptionMessage"], StringComparison.Ordinal);
            Assert.Equal(0, Probe.For(run).Runs);
        }
        finally
        {
            fixture.Register();
        }
    }
}

[Collection(HangfireCollection.Name)]
public sealed class GlobalRegistrationTests(HangfireFixture fixture)
{
    [Fact]
    public async Task LockEveryJob_LocksJobsWithoutAnAttribute_ByTypeAndMethod()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        GlobalConfiguration.Configuration.UseHybridCoordination(fixture.Locks, o =>
        {
            o.LockEveryJob = true;
            o.EveryJobContention = LockContention.Skip;
        });
        try
        {
            var id = new BackgroundJobClient(storage).Enqueue(() => PlainJobs.Plain(run));
            await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);
            Assert.Equal(["hangfire:Coordination.Hangfire.Tests.PlainJobs.Plain"], Probe.For(run).Keys.ToArray());

            await using (await fixture.Locks.AcquireAsync("hangfire:Coordination.Hangfire.Tests.PlainJobs.Plain"))
            {
                var skipped = new BackgroundJobClient(storage).Enqueue(() => PlainJobs.Plain(run));
                var state = await HangfireFixture.WaitForStateAsync(storage, skipped, DeletedState.StateName);
                Assert.Equal("skipped: lock 'hangfire:Coordination.Hangfire.Tests.PlainJobs.Plain' held", state.Reason);
            }
        }
        finally
        {
            fixture.Register();
        }
    }

    [Fact]
    public async Task WithoutLockEveryJob_JobsWithoutAnAttributeRunWithoutALock()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");

        var id = new BackgroundJobClient(storage).Enqueue(() => PlainJobs.Plain(run));
        await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);

        Assert.Equal(["(none)"], Probe.For(run).Keys.ToArray());
    }

    [Fact]
    public async Task MethodAttribute_WinsOverClassAttribute_AndOnlyOneLockIsTaken()
    {
        var run = Probe.NewRun();
        var storage = HangfireFixture.NewStorage();
        using var server = HangfireFixture.StartServer(storage, "a");
        var before = fixture.Locks.Issued.Count;

        var id = new BackgroundJobClient(storage).Enqueue<MixedJob>(j => j.Run(run));
        await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);

        Assert.Equal([$"method-level:{run}"], Probe.For(run).Keys.ToArray());
        Assert.DoesNotContain(fixture.Locks.Issued.Skip(before), i => i.Key == "class-level");
    }
}

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

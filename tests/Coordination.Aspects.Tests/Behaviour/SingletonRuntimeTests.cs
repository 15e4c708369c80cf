using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Coordination.Aspects.Tests.Behaviour;

/// <summary>Tests that touch the process-wide <see cref="SingletonRuntime.Provider"/>; they run one at a time.</summary>
[Collection(nameof(SingletonRuntimeTests))]
public sealed class SingletonRuntimeTests : IDisposable
{
    private readonly IDistributedLockProvider? _previous = SingletonRuntime.Provider;

    public void Dispose() => SingletonRuntime.Provider = _previous;

    [Fact]
    public async Task Call_BeforeAnyProviderIsConfigured_ThrowsAClearInvalidOperationException()
    {
        SingletonRuntime.Provider = null;
        var probe = new Probe();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new GuardedService().TaskAsync("x", probe));

        Assert.Contains("GuardedService.TaskAsync", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddSingletonAspects()", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, probe.Runs);
    }

    [Fact]
    public async Task AddSingletonAspects_PublishesTheContainersProviderWhileTheHostRuns()
    {
        SingletonRuntime.Provider = null;
        var services = new ServiceCollection();
        services.AddHybridCoordination(LockProviderFixture.Configure).AddSingletonAspects();
        await using var container = services.BuildServiceProvider();
        var hosted = container.GetServices<IHostedService>().ToArray();

        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        Assert.Same(container.GetRequiredService<IDistributedLockProvider>(), SingletonRuntime.Provider);
        var probe = new Probe();
        await new GuardedService().TaskAsync(Guid.NewGuid().ToString("N"), probe);
        Assert.Equal(1, probe.Runs);

        foreach (var service in hosted)
        {
            await service.StopAsync(CancellationToken.None);
        }

        Assert.Null(SingletonRuntime.Provider);
    }

    [Fact]
    public async Task UseSingletonAspects_PublishesTheProviderWithoutAHost()
    {
        SingletonRuntime.Provider = null;
        var services = new ServiceCollection();
        services.AddHybridCoordination(LockProviderFixture.Configure);
        await using var container = services.BuildServiceProvider();

        container.UseSingletonAspects();

        Assert.Same(container.GetRequiredService<IDistributedLockProvider>(), SingletonRuntime.Provider);
    }

    [Fact]
    public void UseProvider_OverridesTheProcessProviderOnlyInsideTheScope()
    {
        var global = LockProviderFixture.CreateProvider();
        var scoped = LockProviderFixture.CreateProvider();
        SingletonRuntime.Provider = global;

        using (SingletonRuntime.UseProvider(scoped))
        {
            Assert.Same(global, SingletonRuntime.Provider);
        }

        Assert.Throws<ArgumentNullException>(() => SingletonRuntime.UseProvider(null!));
    }
}

using Coordination.Testing;
using Xunit;

namespace Coordination.Aspects.Tests.Behaviour;

/// <summary>[Singleton] with MaxConcurrency (a semaphore) or Access (a reader-writer lock), on the real provider.</summary>
public sealed class SingletonConcurrencyTests
{
    private readonly GuardedService _service = new();

    [Fact]
    public async Task MaxConcurrencyTwo_RunsTwoCallsAtOnce_AndTheThirdWaitsForAPermit()
    {
        using var scope = SingletonRuntime.UseProvider(LockProviderFixture.CreateProvider());
        var name = Guid.NewGuid().ToString("N");
        var probe = new Probe { Parks = true };

        var calls = Enumerable.Range(0, 3).Select(_ => _service.TwoAtATimeAsync(name, probe)).ToList();
        await Poll.UntilAsync(() => probe.Runs == 2, "two calls run");
        probe.Release.TrySetResult();
        await Task.WhenAll(calls);

        Assert.Equal(3, probe.Runs);
        Assert.Equal(2, probe.MaxInside);
    }

    [Fact]
    public async Task ReadAccess_LetsCallsShareTheKey()
    {
        using var scope = SingletonRuntime.UseProvider(LockProviderFixture.CreateProvider());
        var name = Guid.NewGuid().ToString("N");
        var probe = new Probe { Parks = true };

        var calls = Enumerable.Range(0, 3).Select(_ => _service.ReadSettingsAsync(name, probe)).ToList();
        await Poll.UntilAsync(() => probe.Runs == 3, "three readers run together");
        probe.Release.TrySetResult();
        await Task.WhenAll(calls);
        Assert.Equal(3, probe.MaxInside);
    }
}

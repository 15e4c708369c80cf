using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.AspNetCore.Tests.Infrastructure;

/// <summary>
/// The one place that chooses the lock backend for the acceptance tests. InProcess by default: one provider shared
/// by every test app in this process, so two apps exclude each other the way two instances would. Set
/// <c>COORDINATION_TEST_MODE=Hybrid</c> (or ZooKeeperOnly/RedisOnly) with <c>COORDINATION_TEST_REDIS</c> and
/// <c>COORDINATION_TEST_ZOOKEEPER</c> to run the same tests against real servers, one provider per app.
/// </summary>
internal static class TestLockBackend
{
    private static readonly Lazy<IDistributedLockProvider> SharedInProcess = new(() => Build(o => o.Mode = LockMode.InProcess));

    public static LockMode Mode { get; } = Enum.TryParse<LockMode>(Environment.GetEnvironmentVariable("COORDINATION_TEST_MODE"), ignoreCase: true, out var mode) ? mode : LockMode.InProcess;

    /// <summary>The provider for one app instance.</summary>
    public static IDistributedLockProvider CreateProvider() => Mode == LockMode.InProcess
        ? SharedInProcess.Value
        : Build(o =>
        {
            o.Mode = Mode;
            o.Redis = Environment.GetEnvironmentVariable("COORDINATION_TEST_REDIS") ?? "127.0.0.1:6379";
            o.ZooKeeper = Environment.GetEnvironmentVariable("COORDINATION_TEST_ZOOKEEPER") ?? "127.0.0.1:2181";
        });

    private static IDistributedLockProvider Build(Action<HybridCoordinationOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddHybridCoordination(configure);
        // Kept alive for the test run; the provider owns its connections.
        return services.BuildServiceProvider().GetRequiredService<IDistributedLockProvider>();
    }
}

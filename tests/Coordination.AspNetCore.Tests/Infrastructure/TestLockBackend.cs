using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.AspNetCore.Tests.Infrastructure;

/// <summary>
/// The one place that chooses the lock backend for the acceptance tests. Hybrid on the real test servers by default,
/// one provider (own Redis multiplexer and ZooKeeper session) per app, so two apps exclude each other the way two
/// instances would. <c>COORDINATION_TEST_MODE=InProcess</c> (or ZooKeeperOnly/RedisOnly) switches the mode.
/// </summary>
internal static class TestLockBackend
{
    private static readonly Lazy<IDistributedLockProvider> SharedInProcess = new(() => Build(o => o.Mode = LockMode.InProcess));

    public static LockMode Mode { get; } = Enum.TryParse<LockMode>(Environment.GetEnvironmentVariable("COORDINATION_TEST_MODE"), ignoreCase: true, out var mode) ? mode : LockMode.Hybrid;

    private static readonly string RunId = Guid.NewGuid().ToString("N")[..8];

    /// <summary>The provider for one app instance.</summary>
    public static IDistributedLockProvider CreateProvider() => Mode == LockMode.InProcess
        ? SharedInProcess.Value
        : Build(o =>
        {
            var servers = Coordination.Testing.TestServers.Current;
            o.Mode = Mode;
            o.Redis = servers.Redis;
            o.ZooKeeper = servers.ZooKeeper;
            o.RedisPrefix = "aspnet-" + RunId + ":";
            o.ZooKeeperRoot = "/aspnet-" + RunId;
        });

    private static IDistributedLockProvider Build(Action<HybridCoordinationOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddHybridCoordination(configure);
        // Kept alive for the test run; the provider owns its connections.
        return services.BuildServiceProvider().GetRequiredService<IDistributedLockProvider>();
    }
}

using Coordination.Locks;
using Coordination.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Aspects.Tests.Behaviour;

/// <summary>
/// The one place that decides which lock provider the behaviour tests run on. InProcess mode today; to run the same
/// tests against real servers, change <see cref="Configure"/> to Hybrid mode with Redis and ZooKeeper addresses.
/// Tests wrap the provider in <see cref="InstrumentedLockProvider"/> to observe and steer it, and scope it to their own
/// async flow with <see cref="SingletonRuntime.UseProvider"/>, so they can run in parallel.
/// </summary>
internal static class LockProviderFixture
{
    private static readonly Lazy<IDistributedLockProvider> Shared = new(() =>
    {
        var services = new ServiceCollection();
        services.AddHybridCoordination(Configure);
        return services.BuildServiceProvider().GetRequiredService<IDistributedLockProvider>();
    });

    /// <summary>Hybrid mode on the real test servers; a fixed prefix and root so the cross-process children share them.</summary>
    public static void Configure(HybridCoordinationOptions options)
    {
        var servers = Coordination.Testing.TestServers.Current;
        options.Mode = LockMode.Hybrid;
        options.Redis = servers.Redis;
        options.ZooKeeper = servers.ZooKeeper;
        options.RedisPrefix = "coord-aspects-tests:";
        options.ZooKeeperRoot = "/coord-aspects-tests";
    }

    /// <summary>The process-wide provider (one Redis multiplexer and one ZooKeeper session, as in an app).</summary>
    public static IDistributedLockProvider CreateProvider() => Shared.Value;

    /// <summary>
    /// The provider of each child process in the cross-process test. InProcess mode cannot exclude across processes, so
    /// until the fixture uses a distributed mode this is a file-lock fake; with Hybrid mode return <see cref="CreateProvider"/>.
    /// </summary>
    public static IDistributedLockProvider CreateCrossProcessProvider(string directory) => CreateProvider();

    /// <summary>A fresh recorded provider, used by [Singleton] calls in the current async flow until disposed.</summary>
    public static LockScope Use() => new(new InstrumentedLockProvider(CreateProvider()));

    internal sealed class LockScope(InstrumentedLockProvider recorder) : IDisposable
    {
        private readonly IDisposable _scope = SingletonRuntime.UseProvider(recorder);

        public InstrumentedLockProvider Recorder => recorder;

        public void Dispose() => _scope.Dispose();
    }
}

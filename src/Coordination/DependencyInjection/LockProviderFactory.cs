using Coordination.Diagnostics;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.DependencyInjection;

/// <summary>
/// Builds the lock provider for the configured <see cref="LockMode"/>. One engine serves every primitive: the
/// semaphore and reader-writer providers are the lock provider itself.
/// </summary>
internal static class LockProviderFactory
{
    public static IDistributedLockProvider Create(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<HybridCoordinationOptions>>();
        var o = options.Value;
        var time = sp.GetRequiredService<TimeProvider>();
        var loggers = sp.GetService<ILoggerFactory>();
        LockPrimitives provider = o.Mode switch
        {
            LockMode.InProcess => new InProcessLockProvider(options, time),
            LockMode.RedisOnly => new RedisLockProvider(o, sp.GetRequiredService<CoordinationConnections>(), sp.GetRequiredService<CoordinationStatus>(), loggers, time),
            LockMode.ZooKeeperOnly => new HybridLockProvider(o, sp.GetRequiredService<CoordinationConnections>(), sp.GetRequiredService<CoordinationStatus>(), loggers, time, useRedis: false),
            _ => new HybridLockProvider(o, sp.GetRequiredService<CoordinationConnections>(), sp.GetRequiredService<CoordinationStatus>(), loggers, time, useRedis: true),
        };
        provider.Waits = sp.GetRequiredService<LockWaitRegistry>();
        return provider;
    }

    /// <summary>The registered lock provider as <typeparamref name="T"/> (it implements every primitive).</summary>
    public static T Of<T>(IServiceProvider sp)
        where T : class =>
        sp.GetRequiredService<IDistributedLockProvider>() as T
        ?? throw new InvalidOperationException(
            $"The registered {nameof(IDistributedLockProvider)} ({sp.GetRequiredService<IDistributedLockProvider>().GetType().Name}) does not implement {typeof(T).Name}; register one with services.AddSingleton<{typeof(T).Name}>(...) or use the provider AddHybridCoordination registers.");
}

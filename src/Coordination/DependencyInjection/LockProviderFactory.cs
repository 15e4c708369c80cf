using Coordination.Diagnostics;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.DependencyInjection;

/// <summary>Builds the lock provider for the configured <see cref="LockMode"/>.</summary>
internal static class LockProviderFactory
{
    public static IDistributedLockProvider Create(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<HybridCoordinationOptions>>();
        var o = options.Value;
        var time = sp.GetRequiredService<TimeProvider>();
        var loggers = sp.GetService<ILoggerFactory>();
        return o.Mode switch
        {
            LockMode.InProcess => new InProcessLockProvider(options, time),
            LockMode.RedisOnly => new RedisLockProvider(o, sp.GetRequiredService<CoordinationConnections>(), sp.GetRequiredService<CoordinationStatus>(), loggers, time),
            LockMode.ZooKeeperOnly => new HybridLockProvider(o, sp.GetRequiredService<CoordinationConnections>(), sp.GetRequiredService<CoordinationStatus>(), loggers, time, useRedis: false),
            _ => new HybridLockProvider(o, sp.GetRequiredService<CoordinationConnections>(), sp.GetRequiredService<CoordinationStatus>(), loggers, time, useRedis: true),
        };
    }
}

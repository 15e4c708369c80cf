using Coordination.Hangfire;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hangfire;

/// <summary>Registers the Coordination job filters with Hangfire.</summary>
public static class HangfireCoordinationConfigurationExtensions
{
    /// <summary>
    /// Makes jobs marked <c>[DistributedLock]</c> or <c>[Singleton]</c> (the core attributes, on the method or class) run
    /// inside locks from <paramref name="provider"/> by adding the global filter to <see cref="GlobalJobFilters"/>; with
    /// <see cref="HangfireCoordinationOptions.LockEveryJob"/> it locks every job. Required on every server: without it
    /// the attributes are inert metadata. Calling it again replaces the provider and options.
    /// </summary>
    public static IGlobalConfiguration UseHybridCoordination(this IGlobalConfiguration configuration, IDistributedLockProvider provider, Action<HangfireCoordinationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(provider);
        var options = new HangfireCoordinationOptions();
        configure?.Invoke(options);
        options.Validate();
        JobLockEngine.Current = new JobLockEngine(provider, options);
        lock (GlobalJobFilters.Filters)
        {
            if (!GlobalJobFilters.Filters.Any(f => f.Instance is HybridCoordinationJobFilter))
            {
                GlobalJobFilters.Filters.Add(new HybridCoordinationJobFilter());
            }
        }

        return configuration;
    }

    /// <summary>
    /// Like <see cref="UseHybridCoordination(IGlobalConfiguration, IDistributedLockProvider, Action{HangfireCoordinationOptions}?)"/>,
    /// resolving the lock provider (registered by <c>services.AddHybridCoordination()</c>) and the logger factory from
    /// <paramref name="services"/>; use it inside <c>services.AddHangfire((sp, cfg) => cfg.UseHybridCoordination(sp))</c>.
    /// </summary>
    public static IGlobalConfiguration UseHybridCoordination(this IGlobalConfiguration configuration, IServiceProvider services, Action<HangfireCoordinationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(services);
        var provider = services.GetService<IDistributedLockProvider>() ?? throw new InvalidOperationException(
            "No IDistributedLockProvider is registered in the service provider passed to UseHybridCoordination; call services.AddHybridCoordination(...) first.");
        var loggerFactory = services.GetService<ILoggerFactory>();
        return configuration.UseHybridCoordination(provider, o =>
        {
            o.LoggerFactory = loggerFactory;
            configure?.Invoke(o);
        });
    }
}

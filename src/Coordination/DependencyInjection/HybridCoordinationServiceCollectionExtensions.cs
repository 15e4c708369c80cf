using Coordination;
using Coordination.DependencyInjection;
using Coordination.Locks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Coordination: the lock provider, shared connections, and the builder for optional parts.</summary>
public static class HybridCoordinationServiceCollectionExtensions
{
    /// <summary>
    /// Adds the hybrid coordination services. Options are bound from the <c>Coordination</c> section of the
    /// application's <see cref="IConfiguration"/> (when one is registered), then <paramref name="configure"/>
    /// runs; the result is validated when the host starts.
    /// </summary>
    public static IHybridCoordinationBuilder AddHybridCoordination(this IServiceCollection services, Action<HybridCoordinationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<HybridCoordinationOptions>();
        options.Configure<IServiceProvider>((o, sp) =>
        {
            var configuration = sp.GetService<IConfiguration>();
            configuration?.GetSection(HybridCoordinationOptions.SectionName).Bind(o);
        });
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HybridCoordinationOptions>, HybridCoordinationOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CoordinationConnections>();
        services.TryAddSingleton<ICoordinationConnections>(sp => sp.GetRequiredService<CoordinationConnections>());
        services.TryAddSingleton<Coordination.Diagnostics.CoordinationStatus>();
        services.TryAddSingleton(sp => LockWaitRegistry.Create(sp, sp.GetRequiredService<IOptions<HybridCoordinationOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<Microsoft.Extensions.Logging.ILoggerFactory>()));
        services.TryAddSingleton<IDistributedLockProvider>(sp => LockProviderFactory.Create(sp));
        services.TryAddSingleton<IDistributedSemaphoreProvider>(sp => LockProviderFactory.Of<IDistributedSemaphoreProvider>(sp));
        services.TryAddSingleton<IDistributedReaderWriterLockProvider>(sp => LockProviderFactory.Of<IDistributedReaderWriterLockProvider>(sp));
        services.TryAddSingleton<ILockInspector, LockInspector>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, CoordinationWarmup>());
        return new HybridCoordinationBuilder(services);
    }

    /// <summary>Adds the hybrid coordination services, binding options from <paramref name="configuration"/> (the <c>Coordination</c> section or the section itself).</summary>
    public static IHybridCoordinationBuilder AddHybridCoordination(this IServiceCollection services, IConfiguration configuration, Action<HybridCoordinationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration is IConfigurationSection s && s.Key == HybridCoordinationOptions.SectionName
            ? s
            : configuration.GetSection(HybridCoordinationOptions.SectionName);
        return services.AddHybridCoordination(o =>
        {
            section.Bind(o);
            configure?.Invoke(o);
        });
    }

    private sealed class HybridCoordinationBuilder(IServiceCollection services) : IHybridCoordinationBuilder
    {
        public IServiceCollection Services => services;
    }
}

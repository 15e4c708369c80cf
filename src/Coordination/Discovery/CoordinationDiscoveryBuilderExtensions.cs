using Coordination;
using Coordination.Discovery;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds service registration and discovery (ZooKeeper ephemeral nodes, Redis-shared cache) to Coordination.</summary>
public static class CoordinationDiscoveryBuilderExtensions
{
    /// <summary>
    /// Registers this app as an instance of <paramref name="serviceName"/>: an ephemeral node under
    /// <c>&lt;ZooKeeperRoot&gt;/services/&lt;serviceName&gt;/</c> created once the host has started, re-created after a
    /// session expiry and deleted when the host stops.
    /// </summary>
    /// <param name="builder">The coordination builder.</param>
    /// <param name="serviceName">1..128 characters of [a-z0-9-._].</param>
    /// <param name="configure">Sets endpoints, metadata, version, instance id and health gating.</param>
    /// <exception cref="ArgumentException">The service name is invalid.</exception>
    /// <exception cref="InvalidOperationException">The service is already registered in this app.</exception>
    public static IHybridCoordinationBuilder AddServiceRegistration(this IHybridCoordinationBuilder builder, string serviceName, Action<ServiceRegistrationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ServiceNames.Validate(serviceName, "service name", nameof(serviceName));
        var services = builder.Services;
        if (services.Any(d => d.IsKeyedService && d.ServiceType == typeof(ServiceRegistrationService) && Equals(d.ServiceKey, serviceName)))
        {
            throw new InvalidOperationException($"Service '{serviceName}' is already registered by this app; call AddServiceRegistration once per service.");
        }

        var options = services.AddOptions<ServiceRegistrationOptions>(serviceName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddKeyedSingleton(serviceName, (sp, _) => new ServiceRegistrationService(
            serviceName,
            sp.GetRequiredService<IOptionsMonitor<ServiceRegistrationOptions>>().Get(serviceName),
            sp.GetRequiredService<CoordinationConnections>(),
            sp,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<ServiceRegistrationService>>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredKeyedService<ServiceRegistrationService>(serviceName));
        return builder;
    }

    /// <summary>
    /// Adds <see cref="IServiceDiscovery"/> (watched local cache, Redis-shared copy) and plugs it into
    /// Microsoft.Extensions.ServiceDiscovery, so an <c>HttpClient</c> with <c>AddServiceDiscovery()</c> and a base
    /// address such as <c>http://orders-api</c> reaches the registered instances not reporting Unhealthy,
    /// round robin or at random (<see cref="CoordinationServiceDiscoveryOptions.LoadBalancing"/>).
    /// </summary>
    /// <remarks>
    /// The provider is put before the providers of <c>services.AddServiceDiscovery()</c> (configuration, pass-through),
    /// so those only answer for names without registered instances.
    /// </remarks>
    public static IHybridCoordinationBuilder AddServiceDiscovery(this IHybridCoordinationBuilder builder, Action<CoordinationServiceDiscoveryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<CoordinationServiceDiscoveryOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinationServiceDiscoveryOptions>, CoordinationServiceDiscoveryOptionsValidator>());
        services.TryAddSingleton<ZooKeeperServiceDiscovery>();
        services.TryAddSingleton<IServiceDiscovery>(sp => sp.GetRequiredService<ZooKeeperServiceDiscovery>());
        services.AddServiceDiscoveryCore();
        if (!services.Any(d => d.ServiceType == typeof(IServiceEndpointProviderFactory) && d.ImplementationType == typeof(CoordinationServiceEndpointProviderFactory)))
        {
            var descriptor = ServiceDescriptor.Singleton<IServiceEndpointProviderFactory, CoordinationServiceEndpointProviderFactory>();
            var first = services.ToList().FindIndex(d => d.ServiceType == typeof(IServiceEndpointProviderFactory));
            if (first < 0)
            {
                services.Add(descriptor);
            }
            else
            {
                services.Insert(first, descriptor);
            }
        }

        return builder;
    }
}

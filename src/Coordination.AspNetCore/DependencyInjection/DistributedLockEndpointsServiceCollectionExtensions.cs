using Coordination;
using Coordination.AspNetCore;
using Coordination.AspNetCore.DependencyInjection;
using Coordination.AspNetCore.Middleware;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the services behind <c>[DistributedLock]</c>, <c>.WithDistributedLock(...)</c> and <c>app.UseDistributedLocks()</c>.</summary>
public static class DistributedLockEndpointsServiceCollectionExtensions
{
    /// <summary>
    /// Adds locked-endpoint support with application-wide defaults. Every endpoint's lock declaration is checked
    /// when the host starts. The lock provider comes from <c>AddHybridCoordination()</c>.
    /// </summary>
    public static IServiceCollection AddDistributedLockEndpoints(this IServiceCollection services, Action<DistributedLockEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<DistributedLockEndpointOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DistributedLockEndpointOptions>, DistributedLockEndpointOptionsValidator>());
        services.TryAddSingleton<EndpointLockPlanner>();
        services.TryAddSingleton<EndpointLockRunner>();
        services.TryAddSingleton<DistributedLockActionFilter>();
        services.TryAddEnumerable(ServiceDescriptor.Transient<IConfigureOptions<MvcOptions>, DistributedLockMvcOptionsSetup>());
        services.TryAddSingleton<DistributedLockMiddlewareMarker>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DistributedLockEndpointValidator>());
        return services;
    }

    /// <summary>Adds locked-endpoint support to a coordination setup: <c>AddHybridCoordination(...).AddDistributedLockEndpoints(o =&gt; ...)</c>.</summary>
    public static IHybridCoordinationBuilder AddDistributedLockEndpoints(this IHybridCoordinationBuilder builder, Action<DistributedLockEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddDistributedLockEndpoints(configure);
        return builder;
    }
}

using Coordination;
using Coordination.Aspects;
using Coordination.Aspects.DependencyInjection;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Wires <see cref="SingletonAttribute"/> methods to the lock provider registered by <c>AddHybridCoordination()</c>.</summary>
public static class SingletonAspectsServiceCollectionExtensions
{
    /// <summary>
    /// Makes <see cref="SingletonAttribute"/> methods lock through this container's <see cref="IDistributedLockProvider"/>
    /// once the host starts. A marked method called before that throws a clear <see cref="InvalidOperationException"/>.
    /// </summary>
    public static IHybridCoordinationBuilder AddSingletonAspects(this IHybridCoordinationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SingletonAspectsInitializer>());
        return builder;
    }

    /// <summary>
    /// For apps without a host: makes <see cref="SingletonAttribute"/> methods lock through this container's
    /// <see cref="IDistributedLockProvider"/> now. Returns <paramref name="services"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No lock provider is registered.</exception>
    public static IServiceProvider UseSingletonAspects(this IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var provider = services.GetService<IDistributedLockProvider>() ?? throw new InvalidOperationException(
            "UseSingletonAspects needs an IDistributedLockProvider; call services.AddHybridCoordination(...) first.");
        Publish(provider);
        return services;
    }

    // Last container wins: a process normally has one; test hosts started one after another each take over.
    internal static void Publish(IDistributedLockProvider provider) => SingletonRuntime.Provider = provider;
}

using Coordination;
using Coordination.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds ZooKeeper-stored configuration to a Coordination registration, using its shared connections.</summary>
public static class ZooKeeperConfigurationServiceCollectionExtensions
{
    /// <summary>
    /// Adds the ZooKeeper subtree at <paramref name="path"/> to the application's configuration when the host starts
    /// (values appear before hosted services start and the server accepts requests, and reload with every change, so
    /// <c>IOptionsMonitor&lt;T&gt;</c> bound to the application's configuration follows them). Uses the shared Coordination
    /// connections and prefix; needs the ConfigurationManager of WebApplication.CreateBuilder or Host.CreateApplicationBuilder.
    /// Also registers the provider (keyed by path; the first one unkeyed) and its <see cref="IZooKeeperConfigurationWriter"/>.
    /// For values needed while the host is being built, use <c>builder.Configuration.AddZooKeeper(...)</c> instead.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> or an option is invalid (the message names it).</exception>
    public static IHybridCoordinationBuilder AddZooKeeperConfiguration(this IHybridCoordinationBuilder builder, string path, Action<ZooKeeperConfigurationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var check = new ZooKeeperConfigurationOptions { Path = path };
        configure?.Invoke(check);
        check.Path = path;
        check.Validate(needsServers: false);

        var services = builder.Services;
        services.AddSingleton(new ZooKeeperConfigurationRegistration(path, configure));
        services.AddKeyedSingleton(path, (sp, _) =>
        {
            var shared = sp.GetRequiredService<CoordinationConnections>();
            var options = new ZooKeeperConfigurationOptions { Path = path };
            configure?.Invoke(options);
            options.Path = path;
            options.RedisPrefix = shared.Options.RedisPrefix;
            var loggerFactory = sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
            var logger = loggerFactory.CreateLogger<ZooKeeperConfigurationProvider>();
            return new ZooKeeperConfigurationProvider(new ConfigurationStore(options, shared, ownsConnections: false, logger), logger);
        });
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<ZooKeeperConfigurationProvider>(path));
        services.AddKeyedSingleton<IZooKeeperConfigurationWriter>(path, (sp, key) => sp.GetRequiredKeyedService<ZooKeeperConfigurationProvider>(key).Writer);
        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<IZooKeeperConfigurationWriter>(path));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ZooKeeperConfigurationStartup>());
        return builder;
    }

    /// <summary>
    /// Registers <see cref="ZooKeeperConfigurationHealthCheck"/> (default name <c>coordination-config</c>): Degraded while a
    /// source serves the Redis copy or has malformed nodes, <paramref name="failureStatus"/> (Unhealthy) while one is empty.
    /// </summary>
    public static IHybridCoordinationBuilder AddConfigurationHealthCheck(this IHybridCoordinationBuilder builder, string name = ZooKeeperConfigurationHealthCheck.DefaultName, HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        builder.Services.AddHealthChecks().AddCheck<ZooKeeperConfigurationHealthCheck>(name, failureStatus, tags ?? []);
        return builder;
    }
}

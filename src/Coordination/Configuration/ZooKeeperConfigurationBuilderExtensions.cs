using Coordination.Configuration;

namespace Microsoft.Extensions.Configuration;

/// <summary>Adds ZooKeeper-stored, Redis-cached configuration to an <see cref="IConfigurationBuilder"/>.</summary>
public static class ZooKeeperConfigurationBuilderExtensions
{
    /// <summary>
    /// Adds the ZooKeeper subtree at <see cref="ZooKeeperConfigurationOptions.Path"/> as configuration, with its own
    /// ZooKeeper session and Redis connection (configuration is built before dependency injection exists). Loading reads
    /// the Redis copy, then ZooKeeper; it throws when neither can be read unless the source is Optional.
    /// </summary>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public static IConfigurationBuilder AddZooKeeper(this IConfigurationBuilder builder, Action<ZooKeeperConfigurationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ZooKeeperConfigurationOptions();
        configure(options);
        return builder.Add(new ZooKeeperConfigurationSource(options));
    }

    /// <summary>
    /// Calls <paramref name="callback"/> with the changed keys after each batch of ZooKeeper changes under the configuration
    /// key <paramref name="path"/> (e.g. <c>Payments</c>; empty for all), for every ZooKeeper source of this configuration.
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration has no ZooKeeper source.</exception>
    public static IDisposable OnConfigurationChanged(this IConfiguration configuration, string path, Action<ZooKeeperConfigurationChange> callback)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var providers = (configuration as IConfigurationRoot)?.Providers.OfType<ZooKeeperConfigurationProvider>().ToList() ?? [];
        if (providers.Count == 0)
        {
            throw new InvalidOperationException("The configuration has no ZooKeeper source: add one with builder.Configuration.AddZooKeeper(...), or resolve ZooKeeperConfigurationProvider from the services when it was added with AddZooKeeperConfiguration(...).");
        }

        var subscriptions = providers.Select(p => p.OnConfigurationChanged(path, callback)).ToList();
        return new Subscriptions(subscriptions);
    }

    private sealed class Subscriptions(List<IDisposable> inner) : IDisposable
    {
        public void Dispose() => inner.ForEach(s => s.Dispose());
    }
}

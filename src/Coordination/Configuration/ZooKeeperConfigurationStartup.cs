using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.Configuration;

/// <summary>
/// Adds the sources registered with <c>AddZooKeeperConfiguration</c> to the application's configuration when the host is
/// starting (before any hosted service's StartAsync, so before the server accepts requests): the shared connections
/// exist only once the container is built, and <see cref="IConfigurationManager"/> (WebApplicationBuilder,
/// HostApplicationBuilder) accepts new sources after it was built and fires its reload token, so options monitors see them.
/// </summary>
internal sealed class ZooKeeperConfigurationStartup(IServiceProvider services, IEnumerable<ZooKeeperConfigurationRegistration> registrations) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var configuration = services.GetService<IConfiguration>();
        if (configuration is not IConfigurationManager manager)
        {
            throw new InvalidOperationException(
                $"AddZooKeeperConfiguration needs the application's ConfigurationManager (WebApplication.CreateBuilder or Host.CreateApplicationBuilder) but the registered IConfiguration is {configuration?.GetType().Name ?? "missing"}. " +
                "With Host.CreateDefaultBuilder or a hand-built ServiceCollection, add the source with ConfigureAppConfiguration(c => c.AddZooKeeper(...)) or register a ConfigurationManager as IConfiguration.");
        }

        foreach (var path in registrations.Select(r => r.Path).Distinct(StringComparer.Ordinal))
        {
            var provider = services.GetRequiredKeyedService<ZooKeeperConfigurationProvider>(path);
            if (manager is IConfigurationRoot root && root.Providers.Contains(provider))
            {
                continue;
            }

            await provider.Store.StartAsync(cancellationToken).ConfigureAwait(false);
            manager.Add(new ZooKeeperConfigurationSource(provider, provider.Store.Options));
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

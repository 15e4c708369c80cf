using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.Aspects.DependencyInjection;

/// <summary>Publishes the container's lock provider to <see cref="SingletonRuntime"/> when the host starts.</summary>
internal sealed class SingletonAspectsInitializer(IDistributedLockProvider provider) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        SingletonAspectsServiceCollectionExtensions.Publish(provider);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        SingletonRuntime.ClearProvider(provider);
        return Task.CompletedTask;
    }
}

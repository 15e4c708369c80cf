using Microsoft.Extensions.Hosting;

namespace Coordination.DependencyInjection;

/// <summary>Starts connecting to Redis and ZooKeeper when the host starts, so the first lock does not pay for it.</summary>
internal sealed class CoordinationWarmup(CoordinationConnections connections) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (connections.Options.Mode == Locks.LockMode.InProcess)
        {
            return Task.CompletedTask;
        }

        if (connections.HasRedis)
        {
            _ = connections.GetRedisAsync().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }

        if (connections.HasZooKeeper)
        {
            _ = connections.GetZooKeeper();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

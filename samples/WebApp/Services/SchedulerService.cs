using Coordination.Elections;
using Microsoft.Extensions.DependencyInjection;

namespace WebApp.Services;

/// <summary>
/// The sample's leader-only loop (<c>AddLeaderService&lt;SchedulerService&gt;("scheduler")</c>): ticks every 2 s on
/// the one instance that leads the "scheduler" election; its stopping token fires when leadership ends.
/// </summary>
public sealed class SchedulerService([FromKeyedServices("scheduler")] ILeaderElection election, SchedulerLog log, ILogger<SchedulerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        do
        {
            log.Tick(election.FencingToken);
            logger.LogDebug("Scheduler tick under term {FencingToken}", election.FencingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.Elections;

/// <summary>
/// Runs <typeparamref name="TService"/> only while this instance leads its election: a new instance
/// per term, started with the leadership token (its stopping token fires when the term ends) and stopped when the
/// term ends. A failure is logged and the service starts again after a back-off (1 s doubling to 30 s) while the
/// term lasts; the election is never affected. A term given up is handed over once the service has stopped.
/// </summary>
internal sealed class LeaderServiceRunner<TService> : BackgroundService
    where TService : BackgroundService
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly LeaderElection _election;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private volatile Task _term = Task.CompletedTask;

    public LeaderServiceRunner(LeaderElection election, IServiceProvider services, ILogger logger)
    {
        _election = election;
        _services = services;
        _logger = logger;

        // A term given up is handed over only once this term's service has stopped.
        election.OnTermEnding(() => _term);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            CancellationToken leadership;
            try
            {
                leadership = await _election.WaitForLeadershipAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using var term = CancellationTokenSource.CreateLinkedTokenSource(leadership, stoppingToken);
            _term = RunTermAsync(term.Token);
            await _term.ConfigureAwait(false);
        }
    }

    private async Task RunTermAsync(CancellationToken term)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!term.IsCancellationRequested)
        {
            var service = ActivatorUtilities.CreateInstance<TService>(_services);
            try
            {
                ElectionLog.LeaderServiceStarting(_logger, typeof(TService).Name, _election.Name, _election.FencingToken);
                await service.StartAsync(term).ConfigureAwait(false); // links the term into the service's stopping token
                await (service.ExecuteTask ?? Task.CompletedTask).ConfigureAwait(false);
                await Task.Delay(Timeout.Infinite, term).ConfigureAwait(false); // finished early: lead on, idle
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                ElectionLog.LeaderServiceFailed(_logger, typeof(TService).Name, _election.Name, delay, ex);
                try
                {
                    await Task.Delay(delay, term).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
            }
            finally
            {
                await StopQuietlyAsync(service).ConfigureAwait(false);
            }
        }
    }

    private static async Task StopQuietlyAsync(TService service)
    {
        try
        {
            await service.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Already logged from ExecuteTask, or cancellation surfacing again.
        }
        finally
        {
            service.Dispose();
        }
    }
}

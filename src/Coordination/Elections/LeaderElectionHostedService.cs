using Microsoft.Extensions.Hosting;

namespace Coordination.Elections;

/// <summary>Stands in one election while the host runs; on stop a leader gives its term up so a follower takes over at once.</summary>
internal sealed class LeaderElectionHostedService(LeaderElection election) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => election.StartAsync();

    public Task StopAsync(CancellationToken cancellationToken) => election.StopAsync().WaitAsync(cancellationToken);
}

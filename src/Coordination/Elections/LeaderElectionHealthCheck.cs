using Coordination.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.Elections;

/// <summary>
/// <c>coordination-election-&lt;name&gt;</c>: Healthy as leader, follower or observer; the registration's failure
/// status while ZooKeeper cannot say (nobody leads on this instance's word); Degraded while Redis is down (the
/// election itself only needs ZooKeeper).
/// </summary>
internal sealed class LeaderElectionHealthCheck(LeaderElection election, CoordinationStatus status, CoordinationConnections connections) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = election.State;
        var data = new Dictionary<string, object>
        {
            ["election"] = election.Name,
            ["instanceId"] = election.InstanceId,
            ["state"] = state.ToString(),
            ["fencingToken"] = election.FencingToken,
            ["mode"] = status.Mode.ToString(),
            ["redisConnected"] = connections.IsRedisConnected,
        };
        var description = state switch
        {
            LeaderElectionState.Leader => $"Leads election '{election.Name}' (token {election.FencingToken}).",
            LeaderElectionState.Follower => $"Follows in election '{election.Name}'.",
            LeaderElectionState.NotParticipating => $"Observes election '{election.Name}' without standing.",
            LeaderElectionState.Unknown => $"Election '{election.Name}' cannot be decided: ZooKeeper is unavailable, so this instance does not lead.",
            _ => $"Election '{election.Name}' is not running.",
        };
        HealthCheckResult result = state switch
        {
            LeaderElectionState.Unknown => new(context.Registration.FailureStatus, description, data: data),
            _ when status.Mode == CoordinationHealthMode.Degraded || connections.RedisIfCreated is { IsConnected: false } => HealthCheckResult.Degraded(description + " Redis is unavailable; elections run on ZooKeeper alone.", data: data),
            _ => HealthCheckResult.Healthy(description, data),
        };
        return Task.FromResult(result);
    }
}

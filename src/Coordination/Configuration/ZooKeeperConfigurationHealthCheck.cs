using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.Configuration;

/// <summary>
/// Reports the ZooKeeper configuration sources of the application's configuration: Healthy when all are live,
/// Degraded when one serves the Redis copy or has malformed nodes (named with their paths), Unhealthy when one is empty.
/// </summary>
public sealed class ZooKeeperConfigurationHealthCheck(IConfiguration configuration) : IHealthCheck
{
    /// <summary>The default registration name.</summary>
    public const string DefaultName = "coordination-config";

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var providers = (configuration as IConfigurationRoot)?.Providers.OfType<ZooKeeperConfigurationProvider>().ToList() ?? [];
        return Task.FromResult(Evaluate(providers, context.Registration.FailureStatus));
    }

    internal static HealthCheckResult Evaluate(IReadOnlyList<ZooKeeperConfigurationProvider> providers, HealthStatus failureStatus)
    {
        if (providers.Count == 0)
        {
            return HealthCheckResult.Healthy("No ZooKeeper configuration source is loaded.");
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var problems = new List<string>();
        var worst = HealthStatus.Healthy;
        foreach (var p in providers)
        {
            data[p.Path] = p.State.ToString();
            switch (p.State)
            {
                case ZooKeeperConfigurationState.Empty:
                    worst = failureStatus < worst ? failureStatus : worst;
                    problems.Add($"'{p.Path}' has no data ({p.LastProblem ?? "not loaded"})");
                    break;
                case ZooKeeperConfigurationState.Cached:
                    worst = worst > HealthStatus.Degraded ? HealthStatus.Degraded : worst;
                    problems.Add($"'{p.Path}' serves its last known copy, from Redis or memory ({p.LastProblem ?? "ZooKeeper unreachable"})");
                    break;
            }

            foreach (var (path, reason) in p.MalformedNodes)
            {
                worst = worst > HealthStatus.Degraded ? HealthStatus.Degraded : worst;
                data[path] = reason;
                problems.Add($"malformed node '{path}': {reason}");
            }
        }

        var description = problems.Count == 0
            ? $"{providers.Count} ZooKeeper configuration source(s) live."
            : string.Join("; ", problems);
        return new HealthCheckResult(worst, description, data: data);
    }
}

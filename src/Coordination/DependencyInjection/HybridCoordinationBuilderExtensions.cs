using Coordination;
using Coordination.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Optional parts added through <see cref="IHybridCoordinationBuilder"/>.</summary>
public static class HybridCoordinationBuilderExtensions
{
    /// <summary>Health check tag shared by every Coordination check.</summary>
    public const string HealthCheckTag = "coordination";

    /// <summary>
    /// Registers the health checks <c>coordination-redis</c>, <c>coordination-zookeeper</c> (session state) and
    /// <c>coordination-mode</c> (degraded mode) with the standard health-check system, tagged <c>coordination</c>.
    /// </summary>
    public static IHybridCoordinationBuilder AddHealthChecks(this IHybridCoordinationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHealthChecks()
            .AddCheck<RedisHealthCheck>("coordination-redis", HealthStatus.Degraded, [HealthCheckTag])
            .AddCheck<ZooKeeperHealthCheck>("coordination-zookeeper", HealthStatus.Unhealthy, [HealthCheckTag])
            .AddCheck<DegradedModeHealthCheck>("coordination-mode", HealthStatus.Unhealthy, [HealthCheckTag]);
        return builder;
    }
}

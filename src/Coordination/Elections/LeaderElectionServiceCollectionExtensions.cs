using Coordination;
using Coordination.Diagnostics;
using Coordination.Discovery;
using Coordination.Elections;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers leader elections and services that run only on the leader.</summary>
public static class LeaderElectionServiceCollectionExtensions
{
    private const int MaxNameLength = 200;

    /// <summary>
    /// Adds the election <paramref name="name"/>: an <see cref="ILeaderElection"/> keyed by the name (all elections
    /// also resolve as <c>IEnumerable&lt;ILeaderElection&gt;</c>), a hosted service that stands while the host runs
    /// (unless <see cref="LeaderElectionOptions.Candidate"/> is false) and the health check
    /// <c>coordination-election-&lt;name&gt;</c> (tagged <c>coordination</c>, active once the app adds health checks).
    /// Adding a name twice keeps the first registration.
    /// </summary>
    public static IHybridCoordinationBuilder AddLeaderElection(this IHybridCoordinationBuilder builder, string name, Action<LeaderElectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Coordination.Keys.LockKey.Validate(name, MaxNameLength, nameof(name));
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(LeaderElection) && Equals(d.ServiceKey, name)))
        {
            return builder;
        }

        var options = services.AddOptions<LeaderElectionOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // At startup, not later in the candidate loop: without ZooKeeper nobody could ever lead, and a loop that
        // only retries would look like a follower forever.
        options.Validate<IOptions<HybridCoordinationOptions>>(
            (_, coordination) => !string.IsNullOrWhiteSpace(coordination.Value.ZooKeeper),
            $"Election '{name}' needs Coordination:ZooKeeper: ZooKeeper decides elections in every lock mode, and Coordination:ZooKeeper is empty.");
        options.Validate(
            o => o.InstanceId is null || (o.InstanceId.Trim().Length > 0 && o.InstanceId.Length <= MaxNameLength),
            $"Election '{name}': LeaderElectionOptions.InstanceId must be null (the default, <machine>-<pid>) or 1 to {MaxNameLength} characters that are not all white space.");
        options.Validate(
            o => o.Endpoints.All(e => !string.IsNullOrWhiteSpace(e)),
            $"Election '{name}': LeaderElectionOptions.Endpoints contains an empty endpoint.");
        options.ValidateOnStart();

        services.AddKeyedSingleton(name, (sp, _) => new LeaderElection(
            name,
            sp.GetRequiredService<IOptionsMonitor<LeaderElectionOptions>>().Get(name),
            sp.GetRequiredService<IOptions<HybridCoordinationOptions>>().Value,
            sp.GetRequiredService<CoordinationConnections>(),
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(typeof(LeaderElection).FullName!),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            () => ServerAddresses.Get(sp)));
        services.AddKeyedSingleton<ILeaderElection>(name, (sp, _) => sp.GetRequiredKeyedService<LeaderElection>(name));
        services.AddSingleton<ILeaderElection>(sp => sp.GetRequiredKeyedService<LeaderElection>(name));
        services.AddSingleton<IHostedService>(sp => new LeaderElectionHostedService(sp.GetRequiredKeyedService<LeaderElection>(name)));

        // Only the registration: the check shows up wherever the app adds health checks, without pulling them in.
        services.Configure<HealthCheckServiceOptions>(o => o.Registrations.Add(new HealthCheckRegistration(
            "coordination-election-" + name,
            sp => new LeaderElectionHealthCheck(sp.GetRequiredKeyedService<LeaderElection>(name), sp.GetRequiredService<CoordinationStatus>(), sp.GetRequiredService<CoordinationConnections>()),
            HealthStatus.Unhealthy,
            [HybridCoordinationBuilderExtensions.HealthCheckTag])));
        return builder;
    }

    /// <summary>
    /// Runs <typeparamref name="TService"/> only while this instance leads the election <paramref name="election"/>
    /// (added first with <c>AddLeaderElection</c>): a new instance per term whose stopping token fires when the term
    /// ends; failures are logged and retried while the term lasts and never end the candidacy.
    /// </summary>
    /// <exception cref="InvalidOperationException">The election was not added before.</exception>
    public static IServiceCollection AddLeaderService<TService>(this IServiceCollection services, string election)
        where TService : BackgroundService
    {
        ArgumentNullException.ThrowIfNull(services);
        Coordination.Keys.LockKey.Validate(election, MaxNameLength, nameof(election));
        if (!services.Any(d => d.ServiceType == typeof(LeaderElection) && Equals(d.ServiceKey, election)))
        {
            throw new InvalidOperationException($"AddLeaderService<{typeof(TService).Name}>(\"{election}\") needs the election '{election}': call AddHybridCoordination().AddLeaderElection(\"{election}\") first (it must stop after the services that run on it).");
        }

        services.AddSingleton<IHostedService>(sp => new LeaderServiceRunner<TService>(
            sp.GetRequiredKeyedService<LeaderElection>(election),
            sp,
            (sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<TService>()));
        return services;
    }
}

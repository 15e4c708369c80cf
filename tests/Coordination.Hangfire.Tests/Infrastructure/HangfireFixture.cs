using Coordination.Locks;
using Coordination.Testing;
using Hangfire;
using Hangfire.InMemory;
using Hangfire.Server;
using Hangfire.Storage;
using Hangfire.Storage.Monitoring;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Hangfire.Tests.Infrastructure;

/// <summary>
/// One lock provider and one global Hangfire registration for every test in the collection. To run the suite on
/// Hybrid (or another) mode against real servers, change <see cref="ConfigureLocks"/> only.
/// </summary>
public sealed class HangfireFixture : IDisposable
{
    public HangfireFixture()
    {
        var services = new ServiceCollection();
        services.AddHybridCoordination(ConfigureLocks);
        Services = services.BuildServiceProvider();
        Locks = new InstrumentedLockProvider(Services.GetRequiredService<IDistributedLockProvider>());
        Register();
    }

    /// <summary>The single place that chooses the lock mode under test.</summary>
    /// Hybrid mode on the real test servers; the prefix and root are fixed so the cross-process nodes share them
    /// (tests use distinct keys).
    public static void ConfigureLocks(HybridCoordinationOptions options)
    {
        var servers = Coordination.Testing.TestServers.Current;
        options.Mode = LockMode.Hybrid;
        options.Redis = servers.Redis;
        options.ZooKeeper = servers.ZooKeeper;
        options.RedisPrefix = "coord-hangfire-tests:";
        options.ZooKeeperRoot = "/coord-hangfire-tests";
    }

    public ServiceProvider Services { get; }

    public InstrumentedLockProvider Locks { get; }

    /// <summary>(Re)installs the fixture's provider as the Hangfire lock provider.</summary>
    public void Register() => GlobalConfiguration.Configuration.UseHybridCoordination(Locks, o =>
    {
        o.DefaultWaitTimeout = TimeSpan.FromSeconds(30);
        o.DefaultRescheduleDelay = TimeSpan.FromSeconds(1);
    });

    public static InMemoryStorage NewStorage() => new();

    public static BackgroundJobServer StartServer(JobStorage storage, string name, int workers = 4, TimeSpan? cancellationCheck = null) =>
        new(new BackgroundJobServerOptions
        {
            ServerName = name + "-" + Guid.NewGuid().ToString("N")[..6],
            WorkerCount = workers,
            SchedulePollingInterval = TimeSpan.FromMilliseconds(100),
            CancellationCheckInterval = cancellationCheck ?? TimeSpan.FromMinutes(5),
            ShutdownTimeout = TimeSpan.FromSeconds(10),
            StopTimeout = TimeSpan.Zero,
        }, storage);

    public static StateData? State(JobStorage storage, string jobId)
    {
        using var connection = storage.GetConnection();
        return connection.GetStateData(jobId);
    }

    public static IList<StateHistoryDto> History(JobStorage storage, string jobId) =>
        storage.GetMonitoringApi().JobDetails(jobId).History;

    /// <summary>Waits (polling, with a deadline) until the job is in one of <paramref name="states"/>.</summary>
    public static async Task<StateData> WaitForStateAsync(JobStorage storage, string jobId, params string[] states)
    {
        StateData? last = null;
        await Poll.UntilAsync(() =>
        {
            last = State(storage, jobId);
            return last is not null && states.Contains(last.Name, StringComparer.OrdinalIgnoreCase);
        }, $"job {jobId} to reach {string.Join("/", states)}", detail: () => $"last state {last?.Name} ({last?.Reason})");
        return last!;
    }

    public void Dispose() => Services.Dispose();
}

[CollectionDefinition(Name)]
public sealed class HangfireCollection : ICollectionFixture<HangfireFixture>
{
    public const string Name = "Hangfire servers";
}

using Coordination;
using Coordination.Configuration;
using Coordination.Diagnostics;
using Coordination.Discovery;
using Coordination.Elections;
using Coordination.Locks;
using Microsoft.Extensions.Options;
using WebApp.Jobs;
using WebApp.Services;

namespace WebApp.Dashboard;

/// <summary>Builds the JSON behind /coordination: held locks, elections, session, degraded mode, config changes, instances.</summary>
public sealed class CoordinationSnapshot(
    InstanceInfo instance,
    ILockInspector inspector,
    ICoordinationConnections connections,
    CoordinationStatus status,
    ZooKeeperConfigurationProvider config,
    ConfigChangeLog configChanges,
    IServiceDiscovery discovery,
    JobRunLog jobRuns,
    IEnumerable<ILeaderElection> elections,
    SchedulerLog scheduler,
    IOptions<SampleOptions> sample)
{
    /// <summary>Collects the current state; parts that cannot be read report their error instead of failing the whole page.</summary>
    public async Task<object> CaptureAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        IReadOnlyList<ServiceInstance> instances = [];
        string? instancesError = null;
        try
        {
            instances = await discovery.GetInstancesAsync(sample.Value.ServiceName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ServiceDiscoveryException or TimeoutException)
        {
            instancesError = ex.Message;
        }

        // Map the lock engine's holder (pid@machine) to the instance name (machine:port) through discovery metadata.
        var holderNames = instances
            .Where(i => i.Metadata.ContainsKey("holder") && i.Endpoints.Count > 0)
            .GroupBy(i => i.Metadata["holder"], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => InstanceInfo.NameFor(g.First().Endpoints[0]), StringComparer.Ordinal);

        IReadOnlyList<HeldLockInfo> locks = [];
        string? locksError = null;
        try
        {
            locks = await inspector.GetHeldLocksAsync(100, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LockUnavailableException or TimeoutException or InvalidOperationException)
        {
            locksError = ex.Message;
        }

        var electionRows = new List<object>();
        foreach (var election in elections)
        {
            LeaderInfo? leader = null;
            string? leaderError = null;
            try
            {
                leader = await election.GetLeaderAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or Coordination.ZooKeeper.ZooKeeperException)
            {
                leaderError = ex.Message;
            }

            var leaderHolder = leader is null ? null : leader.ProcessId + "@" + leader.Host;
            electionRows.Add(new
            {
                name = election.Name,
                state = election.State.ToString(),
                isLeader = election.IsLeader,
                instanceId = election.InstanceId,
                leader = leader is null ? null : new
                {
                    instanceId = leader.InstanceId,
                    instance = leaderHolder is not null && holderNames.TryGetValue(leaderHolder, out var name) ? name : null,
                    host = leader.Host,
                    endpoints = leader.Endpoints,
                    since = leader.Since,
                    fencingToken = leader.FencingToken,
                },
                leaderError,
            });
        }

        var zk = connections.ZooKeeperIfCreated;
        return new
        {
            instance = instance.Name,
            holder = InstanceInfo.Holder,
            now,
            mode = new { mode = status.Mode.ToString(), reason = status.Reason, since = status.Since },
            session = new
            {
                state = zk?.State.ToString() ?? "NotCreated",
                sessionId = zk is null ? null : $"0x{zk.SessionId:x}",
                server = zk?.ConnectedServer,
                timeoutMs = zk?.NegotiatedSessionTimeout.TotalMilliseconds,
            },
            redis = new { connected = connections.IsRedisConnected },
            // The settings as the library shows them: passwords masked (Redis password=*****, ZooKeeperAuth user:*****).
            security = new
            {
                options = connections.Options.ToString(),
                zooKeeperTls = zk?.UsesTls ?? false,
                zooKeeperLastConnectionError = zk?.LastConnectionError?.Message,
            },
            locks = locks.Select(l => new
            {
                key = l.Key,
                holder = l.Holder,
                holderInstance = l.Holder is not null && holderNames.TryGetValue(l.Holder, out var name) ? name : null,
                fencingToken = l.FencingToken,
                acquiredAt = l.AcquiredAt,
                heldForMs = l.AcquiredAt is { } at ? Math.Max(0, (now - at).TotalMilliseconds) : (double?)null,
                waiters = l.Waiters,
                source = l.Source,
            }),
            locksError,
            elections = electionRows,
            scheduler = new { ticks = scheduler.Ticks, lastFencingToken = scheduler.LastFencingToken, lastTickAt = scheduler.LastTickAt },
            config = new
            {
                path = config.Path,
                state = config.State.ToString(),
                version = config.Version,
                lastChangedAt = configChanges.LastChangedAt,
                recentChanges = configChanges.Recent(),
            },
            instances = instances.Select(i => new
            {
                instanceId = i.InstanceId,
                name = i.Endpoints.Count > 0 ? InstanceInfo.NameFor(i.Endpoints[0]) : null,
                endpoints = i.Endpoints,
                status = i.Status,
                version = i.Version,
                registeredAt = i.RegisteredAt,
            }),
            instancesError,
            jobRuns = jobRuns.Recent(),
        };
    }
}

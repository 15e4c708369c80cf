using Coordination.Configuration;
using Coordination.Diagnostics;
using Coordination.Discovery;
using Coordination.Elections;
using Coordination.Locks;
using Coordination.ZooKeeper;

namespace Coordination.AspNetCore.Dashboard;

/// <summary>
/// Builds <see cref="DashboardSnapshot"/>: the inspector's cluster-wide views (locks, semaphores, reader-writer locks,
/// elections), the registered service instances read from ZooKeeper, this app's session, mode, elections and
/// configuration sources, and the charts' metrics. The parts are read concurrently; each part that fails names its
/// error instead. Holders are named after the registered instance of their process (metadata <c>coordination.process</c>)
/// or the election candidate of that process. Requests arriving while a snapshot is being built, or within a short
/// time after, share it: several open pages cost the servers one set of reads.
/// </summary>
internal sealed class DashboardSnapshotBuilder(
    CoordinationConnections connections,
    CoordinationStatus status,
    ILockInspector inspector,
    Func<IReadOnlyList<ILeaderElection>> elections,
    Func<IReadOnlyList<ZooKeeperConfigurationProvider>> configurationSources,
    DashboardConfigurationLog configurationLog,
    DashboardMetrics metrics,
    CoordinationDashboardOptions options,
    TimeProvider time)
{
    private static readonly TimeSpan ReadBound = TimeSpan.FromSeconds(10);
    private readonly object _gate = new();
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();
    private Task<DashboardSnapshot>? _current;
    private long _currentAt;

    /// <summary>The current snapshot: a fresh one, or the one being built or built less than half a refresh interval ago.</summary>
    public Task<DashboardSnapshot> GetAsync()
    {
        lock (_gate)
        {
            var reuse = Math.Min(1000, options.RefreshInterval.TotalMilliseconds / 2);
            if (_current is { } c && (!c.IsCompleted || time.GetElapsedTime(_currentAt).TotalMilliseconds < reuse))
            {
                return c;
            }

            _currentAt = time.GetTimestamp();
            return _current = Task.Run(CaptureAsync);
        }
    }

    private async Task<DashboardSnapshot> CaptureAsync()
    {
        using var bound = new CancellationTokenSource(ReadBound);
        var ct = bound.Token;
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        var limit = options.MaxRows;

        async Task<T> Part<T>(string name, Func<Task<T>> read, T fallback)
        {
            try
            {
                return await read().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // one part that cannot be read must not take the page down; its error is shown instead
            catch (Exception ex)
#pragma warning restore CA1031
            {
                lock (errors)
                {
                    errors[name] = ex is OperationCanceledException ? $"no answer within {ReadBound.TotalSeconds:0} s" : connections.Scrub(ex.Message); // never a configured password
                }

                return fallback;
            }
        }

        var locks = Part("locks", () => inspector.GetHeldLocksAsync(limit, ct), []);
        var semaphores = Part("semaphores", () => inspector.GetSemaphoresAsync(limit, ct), []);
        var rwlocks = Part("readerWriterLocks", () => inspector.GetReaderWriterLocksAsync(limit, ct), []);
        var clusterElections = Part("elections", () => inspector.GetElectionsAsync(limit, ct), []);
        var instances = Part("instances", () => ReadInstancesAsync(limit, ct), []);
        await Task.WhenAll(locks, semaphores, rwlocks, clusterElections, instances).ConfigureAwait(false);

        var now = time.GetUtcNow();
        var registered = instances.Result;
        var names = new Dictionary<string, (string Name, string InstanceId)>(StringComparer.Ordinal);
        foreach (var e in clusterElections.Result)
        {
            if (e.Leader is { } l && l.Endpoints.Count > 0 && NameOf(l.Endpoints[0]) is { } n)
            {
                names[ProcessOf(l)] = (n, l.InstanceId);
            }
        }

        foreach (var i in registered.Where(i => i.Process is not null))
        {
            names[i.Process!] = (i.Name, i.InstanceId); // a registered instance names its process best
        }

        DashboardHolder Holder(long token, string? process, DateTimeOffset? at)
        {
            var known = process is not null && names.TryGetValue(process, out var k) ? k : default;
            return new DashboardHolder(token, process, known.Name, known.InstanceId, at, at is { } a ? Math.Max(0, (now - a).TotalMilliseconds) : null);
        }

        DashboardHolder FromInfo(LockHolderInfo h) => Holder(h.FencingToken, h.Holder, h.AcquiredAt);

        var local = elections().ToDictionary(e => e.Name, StringComparer.Ordinal);
        var electionRows = clusterElections.Result.Select(e => new DashboardElection(
                e.Name,
                e.Leader is { } l ? new DashboardLeader(l.InstanceId, ProcessOf(l), names.TryGetValue(ProcessOf(l), out var k) ? k.Name : null, l.Endpoints, l.Since, l.FencingToken) : null,
                e.Candidates,
                local.TryGetValue(e.Name, out var mine) ? Local(mine) : null))
            .ToList();
        electionRows.AddRange(local.Values.Where(e => electionRows.All(r => r.Name != e.Name)).Select(e => new DashboardElection(e.Name, null, 0, Local(e))));

        var zk = connections.ZooKeeperIfCreated;
        var o = connections.Options;
        return new DashboardSnapshot(
            now,
            new DashboardInstance(RedisLockRecord.HolderName, Environment.MachineName, Environment.ProcessId, names.GetValueOrDefault(RedisLockRecord.HolderName).Name, _startedAt),
            new DashboardMode(o.Mode.ToString(), status.Mode.ToString(), status.Reason, status.Since),
            new DashboardZooKeeper(connections.HasZooKeeper, zk?.State.ToString() ?? (connections.HasZooKeeper ? "NotConnected" : "NotConfigured"), zk is null ? null : $"0x{zk.SessionId:x}", zk?.ConnectedServer, zk?.NegotiatedSessionTimeout.TotalMilliseconds, o.ZooKeeperRoot),
            new DashboardRedis(connections.HasRedis, connections.IsRedisConnected, o.RedisPrefix),
            [.. locks.Result.Select(l => new DashboardLock(l.Key, Holder(l.FencingToken, l.Holder, l.AcquiredAt), l.Waiters, l.Source))],
            [.. semaphores.Result.Select(s => new DashboardSemaphore(s.Key, s.MaxCount, s.Holders.Count, [.. s.Holders.Select(FromInfo)], s.Waiters, s.Source))],
            [.. rwlocks.Result.Select(r => new DashboardReaderWriterLock(r.Key, [.. r.Readers.Select(FromInfo)], r.Writer is { } w ? FromInfo(w) : null, r.Waiters, r.Source))],
            [.. electionRows.OrderBy(e => e.Name, StringComparer.Ordinal)],
            registered,
            [.. configurationSources().Select(c => new DashboardConfigSource(c.Path, c.State.ToString(), c.Version, c.LastProblem, c.MalformedNodes.Count, configurationLog.Recent(c.Path)))],
            LongWaits(o.LongWaitWarningAfter),
            metrics.Capture(options.BusiestKeys),
            errors);
    }

    private DashboardLongWaits LongWaits(TimeSpan threshold) => threshold == Timeout.InfiniteTimeSpan
        ? new DashboardLongWaits(false, null, [])
        : new DashboardLongWaits(true, threshold.TotalMilliseconds, [.. inspector.GetLongWaits().Take(options.MaxRows).Select(w => new DashboardLongWait(
            w.Key, w.Primitive, w.WaitingFor.TotalMilliseconds, w.Timeout?.TotalMilliseconds, w.HeldByWaiter, w.Holder))]);

    private static DashboardLocalElection Local(ILeaderElection e) => new(e.InstanceId, e.State.ToString(), e.IsLeader);

    private static string ProcessOf(LeaderInfo leader) => leader.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "@" + leader.Host;

    /// <summary><c>host:port</c> of an endpoint, the name the page gives an instance.</summary>
    private static string? NameOf(string endpoint) => Uri.TryCreate(endpoint, UriKind.Absolute, out var u) ? u.Authority : null;

    /// <summary>Every registered instance of every service under <c>&lt;root&gt;/services</c>, read from ZooKeeper (pipelined).</summary>
    private async Task<IReadOnlyList<DashboardServiceInstance>> ReadInstancesAsync(int limit, CancellationToken ct)
    {
        if (!connections.HasZooKeeper)
        {
            return [];
        }

        var zk = await connections.GetConnectedZooKeeperAsync(connections.Options.ConnectTimeout, ct).ConfigureAwait(false);
        var root = connections.Options.UnderRoot("services");
        var services = await ChildrenAsync(zk, root, ct).ConfigureAwait(false);
        var perService = await Task.WhenAll(services.Order(StringComparer.Ordinal).Select(async service =>
        {
            var nodes = await ChildrenAsync(zk, root + "/" + service, ct).ConfigureAwait(false);
            var docs = await Task.WhenAll(nodes.Order(StringComparer.Ordinal).Select(async node =>
            {
                try
                {
                    var data = await zk.GetDataAsync(root + "/" + service + "/" + node, null, ct).ConfigureAwait(false);
                    return ServiceInstanceDocument.TryParse(data.Data)?.ToInstance(service, node);
                }
                catch (NoNodeException)
                {
                    return null;
                }
            })).ConfigureAwait(false);
            return docs.OfType<ServiceInstance>();
        })).ConfigureAwait(false);

        return [.. perService.SelectMany(s => s).Take(limit).Select(i => new DashboardServiceInstance(
            i.ServiceName,
            i.InstanceId,
            i.Endpoints[0].Authority,
            [.. i.Endpoints.Select(e => e.OriginalString)],
            i.Status,
            i.Version,
            i.Metadata.GetValueOrDefault(ServiceRegistrationService.ProcessMetadataKey),
            i.RegisteredAt))];
    }

    private static async Task<IReadOnlyList<string>> ChildrenAsync(ZooKeeperClient zk, string path, CancellationToken ct)
    {
        try
        {
            return (await zk.GetChildrenAsync(path, null, ct).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return [];
        }
    }
}

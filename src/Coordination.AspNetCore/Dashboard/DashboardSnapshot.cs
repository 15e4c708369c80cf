namespace Coordination.AspNetCore.Dashboard;

// The JSON behind the page (GET <pattern>/api/snapshot), camelCase. Every part that cannot be read reports its
// error in Errors (by part name) instead of failing the whole snapshot. No secret is included: no connection string,
// password or configuration value, only configuration keys.

/// <summary>Everything the page shows.</summary>
internal sealed record DashboardSnapshot(
    DateTimeOffset Now,
    DashboardInstance Instance,
    DashboardMode Mode,
    DashboardZooKeeper ZooKeeper,
    DashboardRedis Redis,
    IReadOnlyList<DashboardLock> Locks,
    IReadOnlyList<DashboardSemaphore> Semaphores,
    IReadOnlyList<DashboardReaderWriterLock> ReaderWriterLocks,
    IReadOnlyList<DashboardElection> Elections,
    IReadOnlyList<DashboardServiceInstance> Instances,
    IReadOnlyList<DashboardConfigSource> Configuration,
    DashboardLongWaits LongWaits,
    DashboardMetricsSnapshot Metrics,
    IReadOnlyDictionary<string, string> Errors);

/// <summary>This process: its lock holder name (<c>pid@machine</c>) and, when it registered, its instance.</summary>
internal sealed record DashboardInstance(string Process, string Machine, int Pid, string? Name, DateTimeOffset StartedAt);

/// <summary>The lock engine's mode (configured) and health mode (Normal, Degraded, Unavailable, UnsafeRedisOnly).</summary>
internal sealed record DashboardMode(string Engine, string Health, string? Reason, DateTimeOffset Since);

/// <summary>The ZooKeeper session, when ZooKeeper is configured.</summary>
internal sealed record DashboardZooKeeper(bool Configured, string State, string? SessionId, string? Server, double? SessionTimeoutMs, string Root);

/// <summary>The Redis connection, when Redis is configured.</summary>
internal sealed record DashboardRedis(bool Configured, bool Connected, string Prefix);

/// <summary>A holder as the page names it: its process, and the registered instance of that process when known.</summary>
internal sealed record DashboardHolder(long FencingToken, string? Process, string? Instance, string? InstanceId, DateTimeOffset? AcquiredAt, double? HeldForMs);

/// <summary>A held lock.</summary>
internal sealed record DashboardLock(string Key, DashboardHolder Holder, int Waiters, string Source);

/// <summary>A semaphore in use: permits in use of <see cref="MaxCount"/>.</summary>
internal sealed record DashboardSemaphore(string Key, int MaxCount, int InUse, IReadOnlyList<DashboardHolder> Holders, int Waiters, string Source);

/// <summary>A reader-writer lock in use.</summary>
internal sealed record DashboardReaderWriterLock(string Key, IReadOnlyList<DashboardHolder> Readers, DashboardHolder? Writer, int Waiters, string Source);

/// <summary>An election: its leader (null when nobody leads), the candidates, and this app's part when it takes part.</summary>
internal sealed record DashboardElection(string Name, DashboardLeader? Leader, int Candidates, DashboardLocalElection? Local);

/// <summary>The leader of an election.</summary>
internal sealed record DashboardLeader(string InstanceId, string Process, string? Instance, IReadOnlyList<string> Endpoints, DateTimeOffset Since, long FencingToken);

/// <summary>This app's standing in an election it registered.</summary>
internal sealed record DashboardLocalElection(string InstanceId, string State, bool IsLeader);

/// <summary>A registered service instance.</summary>
internal sealed record DashboardServiceInstance(string Service, string InstanceId, string Name, IReadOnlyList<string> Endpoints, string Status, string? Version, string? Process, DateTimeOffset RegisteredAt);

/// <summary>A ZooKeeper configuration source of this app with its recent changes (keys only, never values).</summary>
internal sealed record DashboardConfigSource(string Path, string State, long Version, string? Problem, int MalformedNodes, IReadOnlyList<DashboardConfigChange> RecentChanges);

/// <summary>One batch of configuration changes seen by this app.</summary>
internal sealed record DashboardConfigChange(DateTimeOffset At, string Path, IReadOnlyList<string> Keys);

/// <summary>
/// This instance's waits that have lasted longer than <c>LongWaitWarningAfter</c> (from memory, no server call);
/// <see cref="Tracked"/> is false when the threshold is <c>Infinite</c> (the watch is off) and the page hides the table.
/// </summary>
internal sealed record DashboardLongWaits(bool Tracked, double? ThresholdMs, IReadOnlyList<DashboardLongWait> Items);

/// <summary>One flow of this instance waiting for a key longer than the threshold: what it holds and who holds the key.</summary>
internal sealed record DashboardLongWait(string Key, string Kind, double WaitingForMs, double? TimeoutMs, IReadOnlyList<string> HeldByWaiter, string? Holder);

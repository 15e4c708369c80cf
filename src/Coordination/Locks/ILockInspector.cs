namespace Coordination.Locks;

/// <summary>
/// Read-only view of the locks held across all instances, for dashboards and diagnostics. Ownership and queue
/// length come from ZooKeeper (the authority); holder metadata comes from the Redis record when there is one.
/// </summary>
public interface ILockInspector
{
    /// <summary>Lists the locks currently held (at most <paramref name="limit"/>), ordered by key.</summary>
    Task<IReadOnlyList<HeldLockInfo>> GetHeldLocksAsync(int limit = 200, CancellationToken cancellationToken = default);

    /// <summary>
    /// The waits of this process that have gone on longer than <see cref="HybridCoordinationOptions.LongWaitWarningAfter"/>,
    /// longest first: the key, what the waiting flow holds and the holder when known (read from memory, no server call).
    /// </summary>
    IReadOnlyList<LockWaitInfo> GetLongWaits();
}

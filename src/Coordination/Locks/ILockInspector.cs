using Coordination.Elections;

namespace Coordination.Locks;

/// <summary>
/// Read-only view of the locks, semaphores, reader-writer locks and elections in use across all instances, for
/// dashboards and diagnostics. Ownership and queue length come from ZooKeeper (the authority); holder metadata comes
/// from the Redis records when there are some. In RedisOnly mode everything comes from Redis.
/// </summary>
public interface ILockInspector
{
    /// <summary>Lists the locks currently held (at most <paramref name="limit"/>), ordered by key.</summary>
    Task<IReadOnlyList<HeldLockInfo>> GetHeldLocksAsync(int limit = 200, CancellationToken cancellationToken = default);

    /// <summary>Lists the semaphores with at least one holder (at most <paramref name="limit"/>), ordered by key.</summary>
    Task<IReadOnlyList<SemaphoreInfo>> GetSemaphoresAsync(int limit = 200, CancellationToken cancellationToken = default);

    /// <summary>Lists the reader-writer locks with a reader or a writer (at most <paramref name="limit"/>), ordered by key.</summary>
    Task<IReadOnlyList<ReaderWriterLockInfo>> GetReaderWriterLocksAsync(int limit = 200, CancellationToken cancellationToken = default);

    /// <summary>Lists the elections with at least one candidate (at most <paramref name="limit"/>), ordered by name; empty without ZooKeeper.</summary>
    Task<IReadOnlyList<ElectionInfo>> GetElectionsAsync(int limit = 200, CancellationToken cancellationToken = default);

    /// <summary>
    /// The waits of this process that have gone on longer than <see cref="HybridCoordinationOptions.LongWaitWarningAfter"/>,
    /// longest first: the key, what the waiting flow holds and the holder when known (read from memory, no server call).
    /// </summary>
    IReadOnlyList<LockWaitInfo> GetLongWaits();
}

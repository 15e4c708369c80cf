namespace Coordination.Locks;

/// <summary>One semaphore in use: its permit count, the holders of its permits and the contenders waiting.</summary>
/// <param name="Key">The semaphore key.</param>
/// <param name="MaxCount">The permit count the key is in use with (the oldest contender's).</param>
/// <param name="Holders">The holders of permits, oldest first (at most <paramref name="MaxCount"/>).</param>
/// <param name="Waiters">Remote contenders queued behind the holders (at most one per process and permit).</param>
/// <param name="Source">Where the facts came from: <c>zookeeper</c> or <c>redis</c>.</param>
public sealed record SemaphoreInfo(string Key, int MaxCount, IReadOnlyList<LockHolderInfo> Holders, int Waiters, string Source);

namespace Coordination.Locks;

/// <summary>One held lock.</summary>
/// <param name="Key">The lock key.</param>
/// <param name="FencingToken">The holder's fencing token (czxid of its node, or the Redis counter in Redis-only mode).</param>
/// <param name="Holder">The holding process (<c>pid@machine</c>) when known.</param>
/// <param name="AcquiredAt">When the lock was granted, when known.</param>
/// <param name="Waiters">Remote waiters queued behind the holder (at most one per process).</param>
/// <param name="Source">Where the facts came from: <c>zookeeper</c>, <c>redis</c> or <c>in-process</c>.</param>
public sealed record HeldLockInfo(string Key, long FencingToken, string? Holder, DateTimeOffset? AcquiredAt, int Waiters, string Source);

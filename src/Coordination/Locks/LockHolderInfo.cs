namespace Coordination.Locks;

/// <summary>One holder of a semaphore permit or of a reader-writer lock's read or write side.</summary>
/// <param name="FencingToken">The holder's fencing token (czxid of its node; 0 when only Redis knows the holder and its record has none).</param>
/// <param name="Holder">The holding process (<c>pid@machine</c>) when known.</param>
/// <param name="AcquiredAt">When the holder was granted, when known.</param>
public sealed record LockHolderInfo(long FencingToken, string? Holder, DateTimeOffset? AcquiredAt);

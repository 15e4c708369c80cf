namespace Coordination.Locks;

/// <summary>One reader-writer lock in use: its readers or its writer, and the contenders waiting.</summary>
/// <param name="Key">The lock key.</param>
/// <param name="Readers">The read holders, oldest first (empty while a writer holds the lock).</param>
/// <param name="Writer">The write holder, or null.</param>
/// <param name="Waiters">Remote contenders (readers and writers) queued behind the holders.</param>
/// <param name="Source">Where the facts came from: <c>zookeeper</c> or <c>redis</c>.</param>
public sealed record ReaderWriterLockInfo(string Key, IReadOnlyList<LockHolderInfo> Readers, LockHolderInfo? Writer, int Waiters, string Source);

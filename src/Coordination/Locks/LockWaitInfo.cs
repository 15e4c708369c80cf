namespace Coordination.Locks;

/// <summary>A wait for a lock, semaphore permit or reader-writer lock in this process that has gone on longer than <c>LongWaitWarningAfter</c>.</summary>
/// <param name="Key">The key waited for.</param>
/// <param name="Primitive">What is waited for: <c>lock</c>, <c>semaphore</c>, <c>read lock</c> or <c>write lock</c>.</param>
/// <param name="WaitingFor">How long the wait has gone on.</param>
/// <param name="Timeout">The wait's timeout; <see langword="null"/> waits forever.</param>
/// <param name="HeldByWaiter">What the waiting flow holds itself, newest first (<c>lock 'a'</c>, ...): with <see cref="Holder"/>, the two sides of a deadlock.</param>
/// <param name="Holder">Who holds the key when known: this process (and what its holding flow waits for), or the holders in the Redis records.</param>
public sealed record LockWaitInfo(string Key, string Primitive, TimeSpan WaitingFor, TimeSpan? Timeout, IReadOnlyList<string> HeldByWaiter, string? Holder);

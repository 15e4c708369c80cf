namespace Coordination;

/// <summary>
/// The one lock contract every host reads: ASP.NET Core endpoints (from endpoint metadata), Hangfire jobs (from the
/// job's method or class) and the compile-time aspect (from the method). <see cref="DistributedLockAttribute"/> and
/// <see cref="SingletonAttribute"/> implement it; <c>.WithDistributedLock(...)</c> adds a <see cref="DistributedLockAttribute"/>.
/// </summary>
/// <remarks>
/// New lock features (permits, read/write, re-entrancy) are added here as members with default implementations, so
/// existing implementations keep compiling and no new attribute family is needed.
/// </remarks>
public interface IDistributedLockMetadata
{
    /// <summary>
    /// The lock key template (<c>orders:{id}</c>), or <see langword="null"/> for the host's default key (Hangfire:
    /// <c>hangfire:&lt;Type&gt;.&lt;Method&gt;</c>; endpoints and methods require a key).
    /// </summary>
    string? Key { get; }

    /// <summary>How long to wait for the lock; <see langword="null"/> uses the host's default for <see cref="OnContention"/>.</summary>
    /// <exception cref="FormatException">The declared timeout text is not a zero, positive or infinite timeout.</exception>
    TimeSpan? WaitTimeout { get; }

    /// <summary>What happens when the lock is still held after <see cref="WaitTimeout"/>; see <see cref="LockContention"/> for each host.</summary>
    LockContention OnContention { get; }

    /// <summary>For <see cref="LockContention.Reschedule"/>: how long until the next attempt; <see langword="null"/> uses the host's default.</summary>
    /// <exception cref="FormatException">The declared delay text is not a positive TimeSpan.</exception>
    TimeSpan? RescheduleDelay { get; }

    /// <summary>
    /// True for <see cref="SingletonAttribute"/>: a run that finds the lock held is redundant, so a Hangfire job skips by
    /// default and a recurring occurrence that another server already ran is skipped.
    /// </summary>
    bool IsSingleton { get; }

    /// <summary>
    /// How many runs per expanded key may proceed at once across processes: 1 (the default) is the lock, N a
    /// distributed semaphore of N permits ("at most 3 report rebuilds at a time"). Every declaration of one key must
    /// use the same count.
    /// </summary>
    int MaxConcurrency => 1;

    /// <summary>Exclusive (the default: the lock or semaphore), or the read or write side of a reader-writer lock on the key.</summary>
    LockAccess Access => LockAccess.Exclusive;
}

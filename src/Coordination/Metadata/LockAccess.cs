namespace Coordination;

/// <summary>How guarded work shares its key: alone (a lock or, with permits, a semaphore), as a reader or as a writer.</summary>
public enum LockAccess
{
    /// <summary>The lock (one run at a time), or a semaphore of <see cref="IDistributedLockMetadata.MaxConcurrency"/> permits.</summary>
    Exclusive = 0,

    /// <summary>The read side of a reader-writer lock: readers of a key run together while no writer holds or waits.</summary>
    Read = 1,

    /// <summary>The write side of a reader-writer lock: runs alone, excluding readers and writers.</summary>
    Write = 2,
}

namespace Coordination.Locks;

/// <summary>Which primitive a queue entry belongs to; decides its node marker and its turn rule.</summary>
internal enum LockKind
{
    /// <summary>The lock: one holder.</summary>
    Mutex = 0,

    /// <summary>A semaphore: at most <see cref="LockShape.Permits"/> holders.</summary>
    Semaphore = 1,

    /// <summary>A reader of a reader-writer lock: shares with other readers.</summary>
    Read = 2,

    /// <summary>A writer of a reader-writer lock: excludes readers and writers.</summary>
    Write = 3,
}

using System.Globalization;

namespace Coordination.Locks;

/// <summary>
/// What one acquisition asks for: the lock, a semaphore permit, a read or a write lock. Every layer of the engine
/// (local queue, ZooKeeper queue, Redis gate, Redis-only lease) reads its rules from here, so the primitives share
/// one engine and differ only in who may proceed.
/// </summary>
/// <remarks>
/// <code>
/// kind       ZooKeeper directory              child name                          Redis keys (one hash tag per key)
/// Mutex      &lt;root&gt;/locks/&lt;enc K&gt;             &lt;owner&gt;-NNNNNNNNNN                 (the lock's record, see RedisLockRecord)
/// Semaphore  &lt;root&gt;/semaphores/&lt;enc K&gt;        &lt;owner&gt;-S&lt;permits&gt;-NNNNNNNNNN      &lt;prefix&gt;{K}:sem  &lt;prefix&gt;{K}:sem:holders  &lt;prefix&gt;{K}:sem:fence
/// Read       &lt;root&gt;/rwlocks/&lt;enc K&gt;           &lt;owner&gt;-R-NNNNNNNNNN                &lt;prefix&gt;{K}:rw:r  &lt;prefix&gt;{K}:rw:holders  &lt;prefix&gt;{K}:rw:fence
/// Write      &lt;root&gt;/rwlocks/&lt;enc K&gt;           &lt;owner&gt;-W-NNNNNNNNNN                &lt;prefix&gt;{K}:rw:w  (same holders and fence)
/// </code>
/// The permit count is part of every semaphore node's name, so any client listing the directory sees it and a
/// contender asking for a different count is refused while the key is in use.
/// </remarks>
internal readonly record struct LockShape(LockKind Kind, int Permits)
{
    public static LockShape Mutex => new(LockKind.Mutex, 1);

    public static LockShape Read => new(LockKind.Read, int.MaxValue);

    public static LockShape Write => new(LockKind.Write, 1);

    public static LockShape Semaphore(int permits) => new(LockKind.Semaphore, permits);

    /// <summary>The primitive's name in messages, metrics and activities.</summary>
    public string Name => Kind switch
    {
        LockKind.Semaphore => "semaphore",
        LockKind.Read => "read lock",
        LockKind.Write => "write lock",
        _ => "lock",
    };

    /// <summary>The ZooKeeper collection under the root.</summary>
    public string Collection => Kind switch
    {
        LockKind.Semaphore => "semaphores",
        LockKind.Read or LockKind.Write => "rwlocks",
        _ => "locks",
    };

    /// <summary>What follows <c>&lt;owner&gt;-</c> in a node name before the 10-digit sequence.</summary>
    public string NodeMarker => Kind switch
    {
        LockKind.Semaphore => "S" + Permits.ToString(CultureInfo.InvariantCulture) + "-",
        LockKind.Read => "R-",
        LockKind.Write => "W-",
        _ => string.Empty,
    };

    /// <summary>
    /// The key of this primitive in the per-process queue and on the release bell: readers and writers of one key share
    /// an entry (the queue keeps them FIFO), and the primitives never share one with each other. The prefix starts with
    /// a control character, which no valid key contains, so no lock key can collide with it.
    /// </summary>
    public string LocalKey(string key) => Kind switch
    {
        LockKind.Semaphore => "\u0001sem:" + key,
        LockKind.Read or LockKind.Write => "\u0001rw:" + key,
        _ => key,
    };

    /// <summary>The caller's key inside a <see cref="LocalKey"/>.</summary>
    public static string KeyOfLocal(string localKey) =>
        localKey.StartsWith('\u0001') ? localKey[(localKey.IndexOf(':', StringComparison.Ordinal) + 1)..] : localKey;

    /// <summary>True when a holder of this shape excludes every other holder of the key.</summary>
    public bool Exclusive => Kind is LockKind.Mutex or LockKind.Write || (Kind == LockKind.Semaphore && Permits == 1);

    /// <summary>Validates a caller's permit count.</summary>
    public static void ValidatePermits(int maxCount, string paramName = "maxCount")
    {
        if (maxCount < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, maxCount, $"A semaphore needs at least one permit; got maxCount {maxCount}.");
        }
    }

    /// <summary>The error for a contender whose permit count differs from the one the key is in use with.</summary>
    public static InvalidOperationException PermitMismatch(string key, int inUse, int requested) =>
        new($"The semaphore '{key}' is in use with maxCount {inUse}; this caller asked for maxCount {requested}. Every contender of one key must use the same count (it may change once no one holds or waits for the key).");
}

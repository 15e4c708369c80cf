namespace Coordination.Locks;

/// <summary>How locks are decided.</summary>
public enum LockMode
{
    /// <summary>ZooKeeper decides ownership; Redis is the try-lock gate, the metadata record and the wake-up bell.</summary>
    Hybrid = 0,

    /// <summary>ZooKeeper only: ephemeral-sequential queue, no Redis traffic.</summary>
    ZooKeeperOnly = 1,

    /// <summary>
    /// Redis only: a lease with a watchdog. Weaker than ZooKeeper: a Redis failover or a long process pause
    /// can let two holders overlap. Fencing tokens still increase.
    /// </summary>
    RedisOnly = 2,

    /// <summary>In-process only, for tests and single-instance development. Gives no cross-process exclusion.</summary>
    InProcess = 3,
}

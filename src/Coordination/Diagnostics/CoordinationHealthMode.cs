using System.Diagnostics.Metrics;

namespace Coordination.Diagnostics;

/// <summary>How the lock engine is running right now.</summary>
public enum CoordinationHealthMode
{
    /// <summary>Every configured backend is in use.</summary>
    Normal,
    /// <summary>Redis is unavailable; locks are decided by ZooKeeper alone (still safe, slower try-once).</summary>
    Degraded,
    /// <summary>ZooKeeper is unavailable; no lock is granted (fail closed).</summary>
    Unavailable,
    /// <summary>ZooKeeper is unavailable and UnsafeAllowRedisOnlyFallback granted Redis-only leases.</summary>
    UnsafeRedisOnly,
}

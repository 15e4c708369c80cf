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

/// <summary>The degraded-mode state shared by the lock engine, health checks and metrics.</summary>
public sealed class CoordinationStatus
{
    private readonly object _gate = new();
    private CoordinationHealthMode _mode = CoordinationHealthMode.Normal;
    private string? _reason;
    private DateTimeOffset _since = DateTimeOffset.UtcNow;

    /// <summary>Creates the status and publishes it as the <c>coordination.degraded</c> gauge.</summary>
    public CoordinationStatus()
    {
        CoordinationDiagnostics.Meter.CreateObservableGauge("coordination.mode", () => (int)Mode, "{mode}", "0 normal, 1 degraded (Redis down), 2 unavailable (ZooKeeper down, fail closed), 3 unsafe Redis-only.");
    }

    /// <summary>The current mode.</summary>
    public CoordinationHealthMode Mode
    {
        get
        {
            lock (_gate)
            {
                return _mode;
            }
        }
    }

    /// <summary>Why the mode is not Normal.</summary>
    public string? Reason
    {
        get
        {
            lock (_gate)
            {
                return _reason;
            }
        }
    }

    /// <summary>When the current mode began.</summary>
    public DateTimeOffset Since
    {
        get
        {
            lock (_gate)
            {
                return _since;
            }
        }
    }

    /// <summary>Raised after the mode changes.</summary>
    public event EventHandler<CoordinationHealthMode>? ModeChanged;

    internal void Set(CoordinationHealthMode mode, string? reason)
    {
        lock (_gate)
        {
            if (_mode == mode)
            {
                _reason = reason;
                return;
            }

            _mode = mode;
            _reason = reason;
            _since = DateTimeOffset.UtcNow;
        }

        ModeChanged?.Invoke(this, mode);
    }
}

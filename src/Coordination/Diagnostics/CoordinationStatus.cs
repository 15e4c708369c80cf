using System.Diagnostics.Metrics;

namespace Coordination.Diagnostics;

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

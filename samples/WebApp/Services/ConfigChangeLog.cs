namespace WebApp.Services;

/// <summary>The last configuration changes this instance saw (newest first), for /api/config and the dashboard.</summary>
public sealed class ConfigChangeLog
{
    private const int Capacity = 20;
    private readonly Lock _gate = new();
    private readonly LinkedList<ConfigChange> _changes = new();

    /// <summary>When the last change arrived, or null when none has since the instance started.</summary>
    public DateTimeOffset? LastChangedAt
    {
        get
        {
            lock (_gate)
            {
                return _changes.First?.Value.At;
            }
        }
    }

    /// <summary>Records one batch of changed keys.</summary>
    public void Add(IReadOnlyList<string> keys)
    {
        lock (_gate)
        {
            _changes.AddFirst(new ConfigChange(DateTimeOffset.UtcNow, [.. keys]));
            while (_changes.Count > Capacity)
            {
                _changes.RemoveLast();
            }
        }
    }

    /// <summary>The recorded changes, newest first.</summary>
    public IReadOnlyList<ConfigChange> Recent()
    {
        lock (_gate)
        {
            return [.. _changes];
        }
    }
}

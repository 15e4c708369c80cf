namespace WebApp.Services;

/// <summary>What the leader-only <see cref="SchedulerService"/> did on this instance (GET /api/scheduler).</summary>
public sealed class SchedulerLog
{
    private long _ticks;
    private long _lastToken;
    private DateTimeOffset? _lastTickAt;

    /// <summary>Ticks run on this instance.</summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    /// <summary>The term of the last tick.</summary>
    public long LastFencingToken => Interlocked.Read(ref _lastToken);

    /// <summary>When the last tick ran here.</summary>
    public DateTimeOffset? LastTickAt => _lastTickAt;

    /// <summary>Records one tick under the term <paramref name="fencingToken"/>.</summary>
    public void Tick(long fencingToken)
    {
        Interlocked.Increment(ref _ticks);
        Interlocked.Exchange(ref _lastToken, fencingToken);
        _lastTickAt = DateTimeOffset.UtcNow;
    }
}

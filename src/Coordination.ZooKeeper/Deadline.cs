using System.Diagnostics;

namespace Coordination.ZooKeeper;

/// <summary>
/// A point on the monotonic clock (<see cref="Stopwatch"/>) by which something must be done, or none (infinite).
/// One type for the deadline arithmetic of every wait in the client and the lock engine.
/// </summary>
internal readonly struct Deadline
{
    private readonly long _at; // Stopwatch ticks; long.MaxValue = none

    private Deadline(long at) => _at = at;

    /// <summary>No deadline.</summary>
    public static Deadline None => new(long.MaxValue);

    /// <summary><paramref name="timeout"/> from now; null or <see cref="Timeout.InfiniteTimeSpan"/> means none.</summary>
    public static Deadline After(TimeSpan? timeout) =>
        timeout is not { } t || t == Timeout.InfiniteTimeSpan ? None : new(Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency));

    /// <summary>True when there is no deadline.</summary>
    public bool IsInfinite => _at == long.MaxValue;

    /// <summary>Time left (never negative), or <see cref="Timeout.InfiniteTimeSpan"/> when there is no deadline.</summary>
    public TimeSpan Remaining
    {
        get
        {
            if (IsInfinite)
            {
                return Timeout.InfiniteTimeSpan;
            }

            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _at);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>True once the deadline has passed.</summary>
    public bool HasPassed => !IsInfinite && Stopwatch.GetTimestamp() >= _at;
}

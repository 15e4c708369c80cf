namespace Coordination.Locks;

/// <summary>Shared rules for lock wait timeouts.</summary>
internal static class LockTimeouts
{
    /// <summary>Accepts zero (try once), a positive span, or <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
    public static void Validate(TimeSpan? timeout, string paramName = "timeout")
    {
        if (timeout is { } t && t < TimeSpan.Zero && t != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(paramName, t, $"A lock timeout must be zero, positive or infinite; got {t}.");
        }
    }

    /// <summary>Normalises an infinite span to null.</summary>
    public static TimeSpan? Normalize(TimeSpan? timeout) => timeout == Timeout.InfiniteTimeSpan ? null : timeout;

    public static TimeoutException TimedOut(string key, TimeSpan? timeout) => TimedOut(key, timeout, LockShape.Mutex);

    public static TimeoutException TimedOut(string key, TimeSpan? timeout, LockShape shape) =>
        new($"Timed out after {timeout} waiting for the distributed {shape.Name} '{key}'.");
}

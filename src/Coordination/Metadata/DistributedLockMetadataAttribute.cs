using System.Globalization;
using Coordination.Keys;

namespace Coordination;

/// <summary>
/// What <see cref="DistributedLockAttribute"/> and <see cref="SingletonAttribute"/> share: the key template, the wait
/// timeout as text (attribute arguments must be constants) and the contention intent. Not meant to be derived from
/// outside this assembly; implement <see cref="IDistributedLockMetadata"/> instead.
/// </summary>
public abstract class DistributedLockMetadataAttribute : Attribute, IDistributedLockMetadata
{
    private protected DistributedLockMetadataAttribute(string? key)
    {
        // Not parsed here: attribute construction errors surface without context; each host checks the template
        // against its endpoint, job or method and names it.
        Key = key;
    }

    /// <inheritdoc />
    public string? Key { get; }

    /// <summary>
    /// How long to wait for the lock: a <see cref="TimeSpan"/> in the invariant culture (<c>"00:00:05"</c>; <c>"0"</c>
    /// tries once) or <c>"Infinite"</c>. Unset uses the host's default (see <see cref="LockContention"/>).
    /// </summary>
    public string? Timeout { get; set; }

    /// <summary>The wait timeout as a <see cref="TimeSpan"/>, for code; it reads and writes <see cref="Timeout"/>.</summary>
    /// <exception cref="FormatException">Reading: <see cref="Timeout"/> is not a zero, positive or infinite timeout.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Writing a negative span other than <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>.</exception>
    public TimeSpan? WaitTimeout
    {
        get => Timeout is null ? null : LockTimeout.Parse(Timeout, Declaration);
        set => Timeout = value is null ? null : LockTimeout.Format(value.Value);
    }

    /// <inheritdoc />
    public LockContention OnContention { get; set; }

    /// <summary>For <see cref="LockContention.Reschedule"/>: the delay before the next attempt (<c>"00:01:00"</c>). Unset uses the host's default.</summary>
    public string? RescheduleDelay { get; set; }

    /// <inheritdoc />
    public abstract bool IsSingleton { get; }

    /// <inheritdoc />
    public int MaxConcurrency { get; set; } = 1;

    /// <inheritdoc />
    public LockAccess Access { get; set; }

    TimeSpan? IDistributedLockMetadata.RescheduleDelay =>
        RescheduleDelay is null ? null
        : TimeSpan.TryParse(RescheduleDelay, CultureInfo.InvariantCulture, out var delay) && delay > TimeSpan.Zero ? delay
        : throw new FormatException($"{Declaration} RescheduleDelay '{RescheduleDelay}' is not a positive TimeSpan such as \"00:00:30\".");

    /// <summary>How the declaration reads in messages, e.g. <c>[Singleton("jobs:{id}")]</c>.</summary>
    private string Declaration => $"[{(IsSingleton ? "Singleton" : "DistributedLock")}(\"{Key}\")]";
}

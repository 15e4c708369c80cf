// Shared source (see KeyTemplate.cs): linked into the generator, netstandard2.0-safe.
using System;
using System.Globalization;

namespace Coordination.Keys;

/// <summary>
/// The one grammar for wait timeouts written as text in lock attributes: a <see cref="TimeSpan"/> in the invariant
/// culture (<c>"00:00:05"</c>; <c>"0"</c> tries once) or <c>"Infinite"</c> (waits until the lock is free or the caller
/// gives up). Negative spans other than <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> are rejected.
/// Endpoints, jobs and the compile-time aspect all read timeouts through this type.
/// </summary>
internal static class LockTimeout
{
    /// <summary>The text that means "wait without a limit".</summary>
    public const string InfiniteText = "Infinite";

    private static readonly TimeSpan Infinite = TimeSpan.FromMilliseconds(-1);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why, phrased to follow "Timeout 'x' ...".</summary>
    public static bool TryParse(string text, out TimeSpan timeout, out string? error)
    {
        error = null;
        if (string.Equals(text.Trim(), InfiniteText, StringComparison.OrdinalIgnoreCase))
        {
            timeout = Infinite;
            return true;
        }

        if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out timeout))
        {
            error = "is not a TimeSpan; write e.g. \"00:00:05\" for five seconds, \"0\" to try once or \"Infinite\"";
            return false;
        }

        if (timeout < TimeSpan.Zero && timeout != Infinite)
        {
            error = "is negative; use \"0\" to try once, a positive span, or \"Infinite\"";
            return false;
        }

        return true;
    }

    /// <summary>Parses <paramref name="text"/> or throws <see cref="FormatException"/> naming <paramref name="declaration"/>.</summary>
    /// <exception cref="FormatException">The text is not a zero, positive or infinite timeout.</exception>
    public static TimeSpan Parse(string text, string declaration) =>
        TryParse(text, out var timeout, out var error)
            ? timeout
            : throw new FormatException($"{declaration} Timeout '{text}' {error}.");

    /// <summary>Writes <paramref name="timeout"/> so that <see cref="TryParse"/> reads it back.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The span is negative and not infinite.</exception>
    public static string Format(TimeSpan timeout) =>
        timeout == Infinite ? InfiniteText
        : timeout < TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"A lock wait timeout must be zero, positive or infinite; got {timeout}.")
        : timeout.ToString("c", CultureInfo.InvariantCulture);
}

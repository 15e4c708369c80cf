using System.Globalization;

namespace Coordination.AspNetCore;

/// <summary>
/// Runs the request inside a distributed lock named by <see cref="KeyTemplate"/>. Put it on a controller or an
/// action, or write <c>.WithDistributedLock(...)</c> on a minimal-API endpoint or route group: both spellings put
/// this same object into the endpoint metadata, and <c>app.UseDistributedLocks()</c> acts on it. The most
/// specific declaration wins (action over controller, endpoint over group); <see cref="DisableDistributedLockAttribute"/>
/// opts an endpoint out.
/// </summary>
/// <remarks>
/// Placeholders in the template: <c>{id}</c> (a route value; on a controller action, otherwise a bound action
/// parameter, members included: <c>{order.Id}</c>), <c>{route:id}</c>, <c>{query:tenant}</c>, <c>{header:X-Tenant}</c>
/// and <c>{claim:sub}</c>. <c>{{</c> and <c>}}</c> write literal braces. Templates are checked against each endpoint
/// when the app starts.
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DistributedLockAttribute : Attribute
{
    /// <summary>Guards the endpoint with the lock named by <paramref name="keyTemplate"/> (for example <c>orders:{id}</c>).</summary>
    /// <param name="keyTemplate">The lock key template; checked against the endpoint's route when the app starts.</param>
    public DistributedLockAttribute(string keyTemplate)
    {
        // Not thrown here: attribute construction errors surface without context; the startup check names the endpoint.
        KeyTemplate = keyTemplate;
    }

    /// <summary>The lock key template, expanded per request.</summary>
    public string KeyTemplate { get; }

    /// <summary>
    /// How long a request waits for the lock, as a <see cref="TimeSpan"/> string (<c>"00:00:05"</c>; <c>"0"</c> tries
    /// once; <c>"Infinite"</c> waits until the client gives up). Unset uses
    /// <see cref="DistributedLockEndpointOptions.DefaultTimeout"/> (try once).
    /// </summary>
    public string? Timeout { get; set; }

    /// <summary>
    /// The wait timeout as a <see cref="TimeSpan"/>, for code (<c>.WithDistributedLock("k", o =&gt; o.WaitTimeout = ...)</c>);
    /// it reads and writes <see cref="Timeout"/>. <see langword="null"/> uses the global default.
    /// </summary>
    /// <exception cref="FormatException">Reading: <see cref="Timeout"/> is not a zero, positive or infinite TimeSpan.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Writing a negative span other than <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>.</exception>
    public TimeSpan? WaitTimeout
    {
        get => Timeout is null ? null : ParseTimeout(Timeout, KeyTemplate);
        set
        {
            if (value is { } t && t < TimeSpan.Zero && t != System.Threading.Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(value), t, $"A distributed lock wait timeout must be zero, positive or infinite; got {t}.");
            }

            Timeout = value is null ? null
                : value == System.Threading.Timeout.InfiniteTimeSpan ? "Infinite"
                : value.Value.ToString("c", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// Status code of a request that did not get the lock within the timeout (for example 409 or 423).
    /// 0, the default, uses <see cref="DistributedLockEndpointOptions.ContentionStatusCode"/>.
    /// </summary>
    public int ContentionStatusCode { get; set; }

    /// <summary>
    /// Adds the fencing token to the response in the <see cref="DistributedLockEndpointOptions.FencingTokenHeaderName"/>
    /// header, so clients can pass it on to storage that rejects stale writers. Off unless set here or globally.
    /// </summary>
    public bool ExposeFencingTokenHeader { get; set; }

    /// <summary>
    /// Writes the response of a request that did not get the lock, instead of the default ProblemDetails; set from
    /// code only. The status code and <c>Retry-After</c> are already set when it runs. Overrides
    /// <see cref="DistributedLockEndpointOptions.OnContention"/>.
    /// </summary>
    public Func<DistributedLockContentionContext, CancellationToken, ValueTask>? OnContention { get; set; }

    internal static TimeSpan ParseTimeout(string text, string? keyTemplate)
    {
        if (string.Equals(text.Trim(), "Infinite", StringComparison.OrdinalIgnoreCase))
        {
            return System.Threading.Timeout.InfiniteTimeSpan;
        }

        if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var t) || (t < TimeSpan.Zero && t != System.Threading.Timeout.InfiniteTimeSpan))
        {
            throw new FormatException($"[DistributedLock(\"{keyTemplate}\")] Timeout '{text}' is not a zero or positive TimeSpan such as \"00:00:05\" (or \"Infinite\").");
        }

        return t;
    }
}

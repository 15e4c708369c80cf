using Microsoft.AspNetCore.Http;

namespace Coordination.AspNetCore;

/// <summary>
/// Application-wide defaults for locked endpoints, set with <c>services.AddDistributedLockEndpoints(o =&gt; ...)</c>
/// and validated when the host starts. Per-endpoint settings on <see cref="DistributedLockAttribute"/> and <see cref="DistributedLockResponseAttribute"/> win.
/// </summary>
public sealed class DistributedLockEndpointOptions
{
    /// <summary>How long a request waits for its lock when the endpoint does not say. Default zero: try once.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>Status code of a request that did not get its lock. Default 409 Conflict; 423 Locked is the other usual choice.</summary>
    public int ContentionStatusCode { get; set; } = StatusCodes.Status409Conflict;

    /// <summary>Value of the <c>Retry-After</c> header on contention, rounded up to whole seconds. Default 1 s; <see langword="null"/> omits it.</summary>
    public TimeSpan? RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Status code when the lock backend cannot decide (fail closed; the handler does not run). Default 503.</summary>
    public int UnavailableStatusCode { get; set; } = StatusCodes.Status503ServiceUnavailable;

    /// <summary>Adds the fencing token header to every locked response, not only endpoints that opt in.</summary>
    public bool ExposeFencingTokenHeader { get; set; }

    /// <summary>Name of the response header carrying the fencing token. Default <c>X-Fencing-Token</c>.</summary>
    public string FencingTokenHeaderName { get; set; } = "X-Fencing-Token";

    /// <summary>
    /// Writes the response of a request that did not get its lock, instead of the default ProblemDetails. The status
    /// code and <c>Retry-After</c> are already set. An endpoint's own callback wins.
    /// </summary>
    public Func<DistributedLockContentionContext, CancellationToken, ValueTask>? OnContention { get; set; }
}

using Microsoft.AspNetCore.Http.Features;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// Replaces the request lifetime feature while a lock is held so that <c>HttpContext.RequestAborted</c> (and every
/// CancellationToken bound from it) fires when either the client goes away or the lock is lost.
/// </summary>
internal sealed class LockAwareRequestLifetimeFeature(IHttpRequestLifetimeFeature inner, CancellationToken linkedToken) : IHttpRequestLifetimeFeature
{
    public CancellationToken RequestAborted { get; set; } = linkedToken;

    public void Abort() => inner.Abort();
}

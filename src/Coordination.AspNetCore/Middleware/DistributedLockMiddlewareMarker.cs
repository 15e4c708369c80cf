using Microsoft.AspNetCore.Routing;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// Records that <c>UseDistributedLocks()</c> was called (so the startup check can refuse locked endpoints that nothing
/// would lock) and, when it was called on a <c>WebApplication</c>, its endpoint sources, which are known before the
/// server starts.
/// </summary>
internal sealed class DistributedLockMiddlewareMarker
{
    public bool IsUsed { get; set; }

    public IEndpointRouteBuilder? Routes { get; set; }
}

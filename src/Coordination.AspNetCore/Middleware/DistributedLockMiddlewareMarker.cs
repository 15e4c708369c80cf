namespace Coordination.AspNetCore.Middleware;

/// <summary>Records that <c>UseDistributedLocks()</c> was called, so the startup check can refuse locked endpoints that nothing would lock.</summary>
internal sealed class DistributedLockMiddlewareMarker
{
    public bool IsUsed { get; set; }
}

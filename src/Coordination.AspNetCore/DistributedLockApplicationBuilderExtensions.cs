using Coordination.AspNetCore.Middleware;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the middleware that runs locked endpoints inside their distributed lock.</summary>
public static class DistributedLockApplicationBuilderExtensions
{
    /// <summary>
    /// Runs every endpoint declaring <c>[DistributedLock]</c>, <c>.WithDistributedLock(...)</c> or <c>[Singleton]</c>
    /// inside its lock. Call it after <c>UseRouting</c> (it needs the endpoint) and after <c>UseAuthentication</c>
    /// when keys use <c>{claim:...}</c>; the lock is held until the rest of the pipeline, response included, is done.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>AddDistributedLockEndpoints()</c> was not called.</exception>
    public static IApplicationBuilder UseDistributedLocks(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var marker = app.ApplicationServices.GetService<DistributedLockMiddlewareMarker>()
            ?? throw new InvalidOperationException("UseDistributedLocks() needs its services: call builder.Services.AddDistributedLockEndpoints() (and AddHybridCoordination()) first.");
        marker.IsUsed = true;
        marker.Routes ??= app as IEndpointRouteBuilder;
        return app.UseMiddleware<DistributedLockMiddleware>();
    }
}

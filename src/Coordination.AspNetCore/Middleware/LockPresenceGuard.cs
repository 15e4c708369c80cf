using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// Fail-closed safety net for a misplaced <c>UseDistributedLocks()</c> (before <c>UseRouting()</c>, where it sees no
/// endpoint): a locked endpoint that reaches its handler without holding its lock throws instead of running
/// unguarded. Runs as an endpoint filter on minimal APIs and inside the MVC action filter.
/// </summary>
internal static class LockPresenceGuard
{
    public static void EnsureHeld(HttpContext context, EndpointLockPlan? plan)
    {
        if (plan is not null && !plan.UsesActionArguments && context.Features.Get<IDistributedLockFeature>() is null)
        {
            throw new InvalidOperationException(
                $"Endpoint '{context.GetEndpoint()?.DisplayName}' declares a distributed lock but reached its handler without it. " +
                "Call app.UseDistributedLocks() after UseRouting() (and after UseAuthentication() when keys use claims).");
        }
    }

    public static ValueTask<object?> FilterAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        if (context.GetEndpoint() is { } endpoint)
        {
            EnsureHeld(context, context.RequestServices.GetRequiredService<EndpointLockPlanner>().GetPlan(endpoint));
        }

        return next(invocation);
    }
}

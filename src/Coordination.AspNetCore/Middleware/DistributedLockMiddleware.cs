using Microsoft.AspNetCore.Http;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// The component that acts on lock metadata for MVC and minimal APIs alike (as rate limiting does). It runs after
/// routing, so it knows the endpoint, and wraps everything after it: the handler, its result and a streamed body all
/// complete before the lock is released, on every path. Keys that need bound MVC action arguments are left to
/// <see cref="DistributedLockActionFilter"/>, which runs after model binding.
/// </summary>
internal sealed class DistributedLockMiddleware(RequestDelegate next, EndpointLockPlanner planner, EndpointLockRunner runner)
{
    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var plan = endpoint is null ? null : planner.GetPlan(endpoint);
        return plan is null || plan.UsesActionArguments ? next(context) : InvokeLockedAsync(context, endpoint!, plan);
    }

    private async Task InvokeLockedAsync(HttpContext context, Endpoint endpoint, EndpointLockPlan plan)
    {
        var scope = await runner.TryEnterAsync(context, endpoint, plan, arguments: null).ConfigureAwait(false);
        if (scope is null)
        {
            return;
        }

        await using (scope.ConfigureAwait(false))
        {
            await next(context).ConfigureAwait(false);
        }
    }
}

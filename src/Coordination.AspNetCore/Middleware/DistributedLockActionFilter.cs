using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// Takes the lock for controller actions whose key names bound action arguments (<c>{order.Id}</c>, or <c>{tenant}</c>
/// bound from the body), which exist only after model binding. Runs first among action filters; the lock is
/// released when the response has completed (<c>RegisterForDisposeAsync</c>), so results and streamed bodies stay
/// inside it. CancellationToken arguments, bound before the lock, are replaced by the token that also fires on
/// lock loss.
/// </summary>
internal sealed class DistributedLockActionFilter(EndpointLockPlanner planner, EndpointLockRunner runner) : IAsyncActionFilter, IOrderedFilter
{
    public int Order => int.MinValue + 1000;

    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        var endpoint = context.HttpContext.GetEndpoint();
        var plan = endpoint is null ? null : planner.GetPlan(endpoint);
        if (plan is null || !plan.UsesActionArguments)
        {
            LockPresenceGuard.EnsureHeld(context.HttpContext, plan);
            await next().ConfigureAwait(false);
            return;
        }

        var scope = await runner.TryEnterAsync(context.HttpContext, endpoint!, plan, context.ActionArguments).ConfigureAwait(false);
        if (scope is null)
        {
            context.Result = new EmptyResult(); // the response (400, contention, 503) is already written
            return;
        }

        context.HttpContext.Response.RegisterForDisposeAsync(scope);
        foreach (var parameter in context.ActionDescriptor.Parameters)
        {
            if (parameter.ParameterType == typeof(CancellationToken) && context.ActionArguments.ContainsKey(parameter.Name))
            {
                context.ActionArguments[parameter.Name] = scope.RequestAborted;
            }
        }

        await next().ConfigureAwait(false);
    }
}

/// <summary>Adds <see cref="DistributedLockActionFilter"/> to every MVC app that registers locked endpoints.</summary>
internal sealed class DistributedLockMvcOptionsSetup(DistributedLockActionFilter filter) : IConfigureOptions<MvcOptions>
{
    public void Configure(MvcOptions options) => options.Filters.Add(filter);
}

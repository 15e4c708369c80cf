using System.Globalization;
using Coordination.Keys;
using Coordination.Locks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// The one component that acts on lock metadata, for MVC and minimal APIs alike (as rate limiting does). It runs
/// after routing, so it knows the endpoint, and wraps everything after it: the handler, its result and a streamed
/// body all complete before the lock is released. Per request:
/// expand key (missing value: 400) → try to acquire (backend unavailable: 503, held elsewhere: contention status +
/// Retry-After) → publish the feature, link the lost-lock signal into RequestAborted → run the rest → release on
/// every path.
/// </summary>
internal sealed class DistributedLockMiddleware(
    RequestDelegate next,
    IDistributedLockProvider provider,
    EndpointLockPlanner planner,
    IOptions<DistributedLockEndpointOptions> options,
    ILogger<DistributedLockMiddleware> logger)
{
    private readonly DistributedLockEndpointOptions _options = options.Value;

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var plan = endpoint is null ? null : planner.GetPlan(endpoint);
        return plan is null ? next(context) : InvokeLockedAsync(context, endpoint!, plan);
    }

    private async Task InvokeLockedAsync(HttpContext context, Endpoint endpoint, EndpointLockPlan plan)
    {
        string key;
        try
        {
            key = plan.ExpandKey(context);
        }
        catch (KeyPlaceholderMissingException ex)
        {
            Log.PlaceholderMissing(logger, endpoint.DisplayName, ex.Placeholder.Text, plan.Template.Template);
            await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Missing lock key value.", $"The request does not supply {ex.Placeholder.Text}, which the lock key template '{plan.Template.Template}' needs.").ConfigureAwait(false);
            return;
        }

        IDistributedLockHandle? handle;
        try
        {
            handle = await provider.TryAcquireAsync(key, plan.Timeout, context.RequestAborted).ConfigureAwait(false);
        }
        catch (LockUnavailableException ex)
        {
            Log.LockUnavailable(logger, ex, key, endpoint.DisplayName);
            SetRetryAfter(context);
            await WriteProblemAsync(context, _options.UnavailableStatusCode, "Lock service unavailable.", "The distributed lock guarding this resource cannot be acquired right now; the request was not processed.").ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            Log.WaitAborted(logger, endpoint.DisplayName, key);
            return;
        }
        catch (ArgumentException ex)
        {
            Log.InvalidKey(logger, endpoint.DisplayName, ex.Message);
            await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid lock key.", ex.Message).ConfigureAwait(false);
            return;
        }

        if (handle is null)
        {
            await RejectAsync(context, endpoint, plan, key).ConfigureAwait(false);
            return;
        }

        await RunLockedAsync(context, endpoint, plan, handle).ConfigureAwait(false);
    }

    private async Task RunLockedAsync(HttpContext context, Endpoint endpoint, EndpointLockPlan plan, IDistributedLockHandle handle)
    {
        Log.LockAcquired(logger, handle.Key, handle.FencingToken, endpoint.DisplayName);
        var features = context.Features;
        var previousLockFeature = features.Get<IDistributedLockFeature>();
        var lifetime = features.Get<IHttpRequestLifetimeFeature>();
        CancellationTokenSource? linked = null;
        CancellationTokenRegistration lostRegistration = default;
        try
        {
            features.Set<IDistributedLockFeature>(new DistributedLockFeature(handle));
            if (handle.LostToken.CanBeCanceled && lifetime is not null)
            {
                linked = CancellationTokenSource.CreateLinkedTokenSource(lifetime.RequestAborted, handle.LostToken);
                features.Set<IHttpRequestLifetimeFeature>(new LockAwareRequestLifetimeFeature(lifetime, linked.Token));
                lostRegistration = handle.LostToken.UnsafeRegister(static state =>
                {
                    var (log, key, name) = ((ILogger, string, string?))state!;
                    Log.LockLost(log, key, name);
                }, ((ILogger)logger, handle.Key, endpoint.DisplayName));
            }

            if (plan.ExposeFencingTokenHeader)
            {
                context.Response.Headers[_options.FencingTokenHeaderName] = handle.FencingToken.ToString(CultureInfo.InvariantCulture);
            }

            await next(context).ConfigureAwait(false);
        }
        finally
        {
            await lostRegistration.DisposeAsync().ConfigureAwait(false);
            if (linked is not null)
            {
                features.Set(lifetime);
                linked.Dispose();
            }

            features.Set(previousLockFeature);
            try
            {
                await handle.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The request's outcome is already decided; the lock expires with its session/lease.
                Log.ReleaseFailed(logger, ex, handle.Key);
            }
        }
    }

    private async Task RejectAsync(HttpContext context, Endpoint endpoint, EndpointLockPlan plan, string key)
    {
        Log.LockContended(logger, key, endpoint.DisplayName, plan.ContentionStatusCode, plan.Timeout);
        context.Response.StatusCode = plan.ContentionStatusCode;
        SetRetryAfter(context);
        if (plan.OnContention is { } callback)
        {
            await callback(new DistributedLockContentionContext(context, key, plan.Template.Template, plan.Timeout), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        await WriteProblemAsync(context, plan.ContentionStatusCode, "The resource is locked.", "Another request holds the lock guarding this resource; retry later.").ConfigureAwait(false);
    }

    private void SetRetryAfter(HttpContext context)
    {
        if (_options.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
    }

    // Goes through IProblemDetailsService when the app registered one (AddProblemDetails), else writes RFC 7807 JSON.
    private static Task WriteProblemAsync(HttpContext context, int status, string title, string detail) =>
        Results.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail }).ExecuteAsync(context);
}

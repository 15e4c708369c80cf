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
/// Takes an endpoint's lock for one request; shared by the middleware and the MVC action filter. Per request:
/// expand key (missing value: 400) → try to acquire (backend unavailable: 503, held elsewhere: contention status +
/// Retry-After, or the OnContention callback) → publish the feature, add the fencing header, link the lost-lock
/// signal into RequestAborted. The returned <see cref="LockScope"/> undoes all of it and releases the lock.
/// </summary>
internal sealed class EndpointLockRunner(IDistributedLockProvider provider, IOptions<DistributedLockEndpointOptions> options, ILogger<EndpointLockRunner> logger)
{
    private readonly DistributedLockEndpointOptions _options = options.Value;

    /// <summary>The held lock's scope, or null when the response was already written (or the client left).</summary>
    /// <remarks>
    /// Not an async method up to the provider call on purpose: the provider records the acquisition in the caller's
    /// async flow, so the handler that the caller runs next holds the lock re-entrantly (a [Singleton] service method
    /// or a direct acquire of the same key inside it gets a nested handle instead of waiting for the request itself).
    /// </remarks>
    public Task<LockScope?> TryEnterAsync(HttpContext context, Endpoint endpoint, EndpointLockPlan plan, IDictionary<string, object?>? arguments)
    {
        string key;
        try
        {
            key = plan.ExpandKey(context, arguments);
        }
        catch (KeyPlaceholderMissingException ex)
        {
            return PlaceholderMissingAsync(context, endpoint, plan, ex);
        }

        ValueTask<IDistributedLockHandle?> acquiring;
        try
        {
            acquiring = provider.TryAcquireAsync(key, plan.MaxConcurrency, plan.Access, plan.Timeout, context.RequestAborted);
        }
        catch (Exception ex)
        {
            acquiring = ValueTask.FromException<IDistributedLockHandle?>(ex); // handled below like an async failure
        }

        return EnterAsync(context, endpoint, plan, key, acquiring);
    }

    private async Task<LockScope?> PlaceholderMissingAsync(HttpContext context, Endpoint endpoint, EndpointLockPlan plan, KeyPlaceholderMissingException ex)
    {
        Log.PlaceholderMissing(logger, endpoint.DisplayName, ex.Placeholder.Text, plan.Template.Template);
        await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Missing lock key value.", $"The request does not supply {ex.Placeholder.Text}, which the lock key template '{plan.Template.Template}' needs.").ConfigureAwait(false);
        return null;
    }

    private async Task<LockScope?> EnterAsync(HttpContext context, Endpoint endpoint, EndpointLockPlan plan, string key, ValueTask<IDistributedLockHandle?> acquiring)
    {
        IDistributedLockHandle? handle;
        try
        {
            handle = await acquiring.ConfigureAwait(false);
        }
        catch (LockUnavailableException ex)
        {
            Log.LockUnavailable(logger, ex, key, endpoint.DisplayName);
            SetRetryAfter(context);
            await WriteProblemAsync(context, _options.UnavailableStatusCode, "Lock service unavailable.", "The distributed lock guarding this resource cannot be acquired right now; the request was not processed.").ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            Log.WaitAborted(logger, endpoint.DisplayName, key);
            return null;
        }
        catch (ArgumentException ex)
        {
            Log.InvalidKey(logger, endpoint.DisplayName, ex.Message);
            await WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid lock key.", ex.Message).ConfigureAwait(false);
            return null;
        }

        if (handle is null)
        {
            await RejectAsync(context, endpoint, plan, key).ConfigureAwait(false);
            return null;
        }

        Log.LockAcquired(logger, handle.Key, handle.FencingToken, endpoint.DisplayName);
        if (plan.ExposeFencingTokenHeader)
        {
            context.Response.Headers[_options.FencingTokenHeaderName] = handle.FencingToken.ToString(CultureInfo.InvariantCulture);
        }

        return new LockScope(context, handle, logger, endpoint.DisplayName);
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

    /// <summary>A held lock bound to a request: the feature, the linked RequestAborted, and the release.</summary>
    internal sealed class LockScope : IAsyncDisposable
    {
        private readonly HttpContext _context;
        private readonly IDistributedLockHandle _handle;
        private readonly ILogger _logger;
        private readonly IDistributedLockFeature? _previousFeature;
        private readonly IHttpRequestLifetimeFeature? _lifetime;
        private readonly CancellationTokenSource? _linked;
        private readonly CancellationTokenRegistration _lostRegistration;
        private int _disposed;

        public LockScope(HttpContext context, IDistributedLockHandle handle, ILogger logger, string? endpointName)
        {
            _context = context;
            _handle = handle;
            _logger = logger;
            var features = context.Features;
            _previousFeature = features.Get<IDistributedLockFeature>();
            features.Set<IDistributedLockFeature>(new DistributedLockFeature(handle));
            _lifetime = features.Get<IHttpRequestLifetimeFeature>();
            if (handle.LostToken.CanBeCanceled && _lifetime is not null)
            {
                _linked = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.RequestAborted, handle.LostToken);
                features.Set<IHttpRequestLifetimeFeature>(new LockAwareRequestLifetimeFeature(_lifetime, _linked.Token));
                _lostRegistration = handle.LostToken.UnsafeRegister(static state =>
                {
                    var (log, key, name) = ((ILogger, string, string?))state!;
                    Log.LockLost(log, key, name);
                }, (logger, handle.Key, endpointName));
            }
        }

        /// <summary>The token that fires when the client goes away or the lock is lost.</summary>
        public CancellationToken RequestAborted => _linked?.Token ?? _context.RequestAborted;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            await _lostRegistration.DisposeAsync().ConfigureAwait(false);
            if (_linked is not null)
            {
                _context.Features.Set(_lifetime);
                _linked.Dispose();
            }

            _context.Features.Set(_previousFeature);
            try
            {
                await _handle.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The request's outcome is already decided; the lock expires with its session/lease.
                Log.ReleaseFailed(_logger, ex, _handle.Key);
            }
        }
    }
}

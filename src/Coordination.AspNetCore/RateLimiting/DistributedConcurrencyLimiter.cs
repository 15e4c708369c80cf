using System.Threading.RateLimiting;
using Coordination.AspNetCore.Middleware;
using Coordination.Locks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Coordination.AspNetCore.RateLimiting;

/// <summary>
/// A <see cref="RateLimiter"/> whose permits are a distributed semaphore's: at most <c>PermitLimit</c> leases are held
/// at once across every instance, each lease one permit of the semaphore, given back when the lease is disposed (the
/// rate limiting middleware does so when the request ends).
/// </summary>
/// <remarks>
/// Only the asynchronous path takes permits: a permit is a network round trip, so <see cref="RateLimiter.AttemptAcquire"/>
/// answers from nothing remote and fails (the ASP.NET Core middleware always acquires asynchronously). A backend that
/// cannot decide (<see cref="LockUnavailableException"/>) fails closed: the request is rejected.
/// A permit that is lost while its request runs (the semaphore handle's <c>LostToken</c>) aborts the request the way a
/// lost endpoint lock does: <c>HttpContext.RequestAborted</c> fires and a warning is logged. The rate limiter API has
/// no request in it, so the policy's partitioner hands the request over in <see cref="PendingRequest"/>: it runs
/// synchronously right before this limiter's acquire, in the same flow.
/// </remarks>
internal sealed class DistributedConcurrencyLimiter(IDistributedSemaphoreProvider semaphores, string key, DistributedConcurrencyLimiterOptions options, ILogger logger) : RateLimiter
{
    /// <summary>The request whose permit is being acquired (set by the policy's partitioner).</summary>
    internal static readonly AsyncLocal<HttpContext?> PendingRequest = new();

    private long _held;
    private long _waiting;
    private long _succeeded;
    private long _failed;

    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => new()
    {
        CurrentAvailablePermits = Math.Max(0, options.PermitLimit - Interlocked.Read(ref _held)),
        CurrentQueuedCount = Interlocked.Read(ref _waiting),
        TotalSuccessfulLeases = Interlocked.Read(ref _succeeded),
        TotalFailedLeases = Interlocked.Read(ref _failed),
    };

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ValidatePermitCount(permitCount);
        return permitCount == 0 ? Lease.Empty : Failed("synchronous acquisition cannot reach the distributed semaphore");
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ValidatePermitCount(permitCount);
        var request = PendingRequest.Value;
        PendingRequest.Value = null;
        if (permitCount == 0)
        {
            return Lease.Empty;
        }

        Interlocked.Increment(ref _waiting);
        IDistributedLockHandle? handle;
        try
        {
            handle = await semaphores.TryAcquireAsync(key, options.PermitLimit, options.QueueTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (LockUnavailableException ex)
        {
            return Failed(ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        if (handle is null)
        {
            return Failed(null);
        }

        Interlocked.Increment(ref _succeeded);
        Interlocked.Increment(ref _held);
        var abort = request is null ? null : LinkIntoRequest(request, handle);
        return new Lease(handle, () =>
        {
            Interlocked.Decrement(ref _held);
            abort?.Dispose();
        });
    }

    /// <summary>Makes <c>RequestAborted</c> fire when the permit is lost, as the endpoint integration does for a lock.</summary>
    private IDisposable? LinkIntoRequest(HttpContext request, IDistributedLockHandle handle)
    {
        if (request.Features.Get<IHttpRequestLifetimeFeature>() is not { } lifetime)
        {
            return null;
        }

        var linked = CancellationTokenSource.CreateLinkedTokenSource(lifetime.RequestAborted, handle.LostToken);
        var lost = handle.LostToken.UnsafeRegister(_ => Middleware.Log.PermitLost(logger, key, handle.FencingToken, request.Request.Path.Value), null);
        request.Features.Set<IHttpRequestLifetimeFeature>(new LockAwareRequestLifetimeFeature(lifetime, linked.Token));
        return new Link(linked, lost);
    }

    private sealed class Link(CancellationTokenSource linked, CancellationTokenRegistration lost) : IDisposable
    {
        public void Dispose()
        {
            lost.Dispose();
            linked.Dispose();
        }
    }

    private static void ValidatePermitCount(int permitCount)
    {
        if (permitCount is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, $"A distributed concurrency limiter grants one permit per lease; got permitCount {permitCount}.");
        }
    }

    private RateLimitLease Failed(string? reason)
    {
        Interlocked.Increment(ref _failed);
        return new Lease(null, null, options.RetryAfter, reason);
    }

    /// <summary>One permit (or a rejection carrying Retry-After and the reason).</summary>
    private sealed class Lease(IDistributedLockHandle? handle, Action? onRelease, TimeSpan? retryAfter = null, string? reason = null) : RateLimitLease
    {
        public static readonly Lease Empty = new(null, null);

        private int _disposed;

        public override bool IsAcquired => handle is not null || (retryAfter is null && reason is null);

        public override IEnumerable<string> MetadataNames =>
            retryAfter is null ? [] : reason is null ? [MetadataName.RetryAfter.Name] : [MetadataName.RetryAfter.Name, MetadataName.ReasonPhrase.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter
                : metadataName == MetadataName.ReasonPhrase.Name ? reason
                : null;
            return metadata is not null;
        }

        protected override void Dispose(bool disposing)
        {
            if (!disposing || handle is null || Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            onRelease?.Invoke();

            // The release is bounded (it never waits on an outage); the request's end need not wait for it.
            _ = handle.DisposeAsync().AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }
}

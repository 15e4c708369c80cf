using System.Globalization;
using System.Threading.RateLimiting;
using Coordination.Locks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination.AspNetCore.RateLimiting;

/// <summary>
/// Registers cluster-wide concurrency limiters with ASP.NET Core rate limiting: a named policy backed by a distributed
/// semaphore (<see cref="IDistributedSemaphoreProvider"/>), used with <c>[EnableRateLimiting("name")]</c> or
/// <c>.RequireRateLimiting("name")</c>.
/// </summary>
public static class DistributedRateLimiterOptionsExtensions
{
    /// <summary>
    /// Adds the policy <paramref name="policyName"/>: at most <paramref name="permitLimit"/> requests in flight at once
    /// across every instance. A rejected request gets <see cref="RateLimiterOptions.RejectionStatusCode"/> and a
    /// <c>Retry-After</c> header (written by the default <see cref="RateLimiterOptions.OnRejected"/> this sets when
    /// none is set yet). Needs <c>services.AddHybridCoordination(...)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The policy name is empty or the key is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The permit limit is below one, or a timeout is negative.</exception>
    public static RateLimiterOptions AddDistributedConcurrencyLimiter(this RateLimiterOptions options, string policyName, int permitLimit, Action<DistributedConcurrencyLimiterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(policyName);
        var settings = new DistributedConcurrencyLimiterOptions { PermitLimit = permitLimit };
        configure?.Invoke(settings);
        if (settings.PermitLimit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(permitLimit), settings.PermitLimit, $"The distributed concurrency limiter '{policyName}' needs at least one permit; got {settings.PermitLimit}.");
        }

        if (settings.QueueTimeout < TimeSpan.Zero || settings.RetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), $"The distributed concurrency limiter '{policyName}' has a negative QueueTimeout ({settings.QueueTimeout}) or RetryAfter ({settings.RetryAfter}).");
        }

        var key = settings.Key ?? "ratelimit:" + policyName;
        Keys.LockKey.Validate(key, int.MaxValue, nameof(DistributedConcurrencyLimiterOptions.Key));

        // One partition: the limiter is built once, from the first request's (root) services.
        options.AddPolicy(policyName, context =>
        {
            DistributedConcurrencyLimiter.PendingRequest.Value = context;
            return RateLimitPartition.Get(
                policyName,
                _ => new DistributedConcurrencyLimiter(
                    context.RequestServices.GetRequiredService<IDistributedSemaphoreProvider>(),
                    key,
                    settings,
                    (context.RequestServices.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger(typeof(DistributedConcurrencyLimiter).FullName!)));
        });
        options.OnRejected ??= WriteRetryAfterAsync;
        return options;
    }

    private static ValueTask WriteRetryAfterAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
        {
            context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return ValueTask.CompletedTask;
    }
}

namespace Coordination.AspNetCore.RateLimiting;

/// <summary>Settings of one cluster-wide concurrency limiter (see <see cref="DistributedRateLimiterOptionsExtensions"/>).</summary>
public sealed class DistributedConcurrencyLimiterOptions
{
    /// <summary>Requests in flight at once across every instance (the semaphore's permits). At least 1.</summary>
    public int PermitLimit { get; set; } = 1;

    /// <summary>How long a request waits for a permit before it is rejected; zero (the default) rejects at once.</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>The semaphore key; unset uses <c>ratelimit:&lt;policy name&gt;</c>. Instances sharing a key share the permits.</summary>
    public string? Key { get; set; }

    /// <summary>The <c>Retry-After</c> a rejected request is told (whole seconds, at least 1).</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}

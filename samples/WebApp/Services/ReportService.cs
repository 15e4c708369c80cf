using Coordination;

namespace WebApp.Services;

/// <summary>A report rebuild guarded by the compile-time <c>[Singleton]</c> aspect.</summary>
public sealed class ReportService(InstanceInfo instance)
{
    /// <summary>
    /// Rebuilds the report of <paramref name="tenant"/>. Every call site is rewritten at compile time to run inside the
    /// lock <c>reports:{tenant}</c>; with <see cref="LockContention.Skip"/> a call made while another instance (or
    /// request) rebuilds the same tenant returns null without running.
    /// </summary>
    [Singleton("reports:{tenant}", OnContention = LockContention.Skip)]
    public async Task<ReportResult?> RebuildAsync(string tenant, int holdMs, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        await Task.Delay(holdMs, cancellationToken).ConfigureAwait(false);
        return new ReportResult(tenant, instance.Name, started, DateTimeOffset.UtcNow);
    }
}

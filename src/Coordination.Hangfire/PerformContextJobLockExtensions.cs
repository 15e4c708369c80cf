using Hangfire.Server;

namespace Coordination.Hangfire;

/// <summary>Reads the job's distributed lock from a Hangfire <see cref="PerformContext"/>.</summary>
public static class PerformContextJobLockExtensions
{
    /// <summary>The item key under which the lock is stored in <see cref="PerformContext.Items"/>.</summary>
    public const string ItemKey = "Coordination.Lock";

    /// <summary>Returns the lock the job runs under, or <see langword="null"/> when it runs without one.</summary>
    public static JobLockContext? GetJobLock(this PerformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(ItemKey, out var value) ? value as JobLockContext : null;
    }
}

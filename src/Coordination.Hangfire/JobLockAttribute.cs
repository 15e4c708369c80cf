using System.Globalization;
using Hangfire.Client;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;

namespace Coordination.Hangfire;

/// <summary>
/// Runs a Hangfire job inside a distributed lock. Put <see cref="DistributedLockAttribute"/> or
/// <see cref="SingletonAttribute"/> on a job method or class; the filter engine registered by
/// <c>UseHybridCoordination()</c> acquires the lock before the job runs and releases it when the job ends.
/// </summary>
/// <remarks>
/// The key template's placeholders (<c>{customerId}</c>, <c>{order.Id}</c>) are bound to the job method's
/// parameters by name; a placeholder naming no parameter fails when the job is enqueued. When the attribute is on
/// both the class and the method, the method's wins. Without <c>UseHybridCoordination()</c> the job fails instead
/// of running unguarded.
/// </remarks>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
public abstract class JobLockAttribute : JobFilterAttribute, IClientFilter, IServerFilter, IElectStateFilter
{
    private TimeSpan? _timeout;
    private TimeSpan? _rescheduleDelay;

    /// <summary>Creates the attribute with a key template, or <see langword="null"/> for a key made from the job's type and method.</summary>
    protected JobLockAttribute(string? key, LockContention onContention)
    {
        if (key is not null)
        {
            // Parse now so a malformed template fails when Hangfire first reads the attribute (at enqueue).
            _ = Keys.KeyTemplate.Parse(key);
        }

        Key = key;
        OnContention = onContention;
    }

    /// <summary>The lock key template, or <see langword="null"/> for <c>hangfire:&lt;type&gt;.&lt;method&gt;</c>.</summary>
    public string? Key { get; }

    /// <summary>What to do when the lock is held by another job.</summary>
    public LockContention OnContention { get; set; }

    /// <summary>
    /// How long to wait for the lock, as a <see cref="TimeSpan"/> string (<c>"00:00:30"</c>). Unset: the configured
    /// default for <see cref="LockContention.Wait"/>, and a single try for the other behaviours.
    /// </summary>
    public string? Timeout
    {
        get => _timeout?.ToString("c", CultureInfo.InvariantCulture);
        set => _timeout = ParseSpan(value, nameof(Timeout), allowZero: true);
    }

    /// <summary>For <see cref="LockContention.Reschedule"/>: the delay before the next attempt (<c>"00:01:00"</c>). Unset: the configured default.</summary>
    public string? RescheduleDelay
    {
        get => _rescheduleDelay?.ToString("c", CultureInfo.InvariantCulture);
        set => _rescheduleDelay = ParseSpan(value, nameof(RescheduleDelay), allowZero: false);
    }

    internal TimeSpan? TimeoutValue => _timeout;

    internal TimeSpan? RescheduleDelayValue => _rescheduleDelay;

    internal abstract string Kind { get; }

    void IClientFilter.OnCreating(CreatingContext context) => JobLockEngine.ValidateOnCreating(context, this);

    void IClientFilter.OnCreated(CreatedContext context)
    {
    }

    void IServerFilter.OnPerforming(PerformingContext context) => JobLockEngine.RequireCurrent(context).OnPerforming(context, this);

    void IServerFilter.OnPerformed(PerformedContext context) => JobLockEngine.Release(context, this);

    void IElectStateFilter.OnStateElection(ElectStateContext context) => JobLockEngine.OnStateElection(context, this);

    private static TimeSpan? ParseSpan(string? value, string name, bool allowZero)
    {
        if (value is null)
        {
            return null;
        }

        if (!TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) || span < TimeSpan.Zero || (!allowZero && span == TimeSpan.Zero))
        {
            throw new ArgumentException($"{name} '{value}' is not a valid {(allowZero ? "non-negative" : "positive")} TimeSpan such as '00:00:30'.", name);
        }

        return span;
    }
}

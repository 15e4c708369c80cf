using System.Collections.Concurrent;
using System.Reflection;

namespace Coordination.Hangfire;

/// <summary>
/// The lock a job method runs under, read once per (job type, method) from the one lock contract,
/// <see cref="IDistributedLockMetadata"/> (<c>[DistributedLock]</c> or <c>[Singleton]</c>), in order: on the method,
/// on the job type, on the method's declaring type. <see cref="LockContention.Default"/> is resolved here: a
/// singleton skips, a lock fails after waiting.
/// </summary>
internal sealed record JobLockPolicy(
    string Kind,
    JobKeyBinder Binder,
    LockContention Contention,
    TimeSpan? Timeout,
    TimeSpan? RescheduleDelay,
    bool CoalesceRecurring,
    int MaxConcurrency = 1,
    LockAccess Access = LockAccess.Exclusive)
{
    private static readonly ConcurrentDictionary<(Type, MethodInfo), JobLockPolicy?> Cache = new();

    /// <summary>Returns the policy, or null when the job has no lock attribute.</summary>
    /// <exception cref="JobLockKeyException">The attribute's key template, timeout or delay does not fit the method.</exception>
    public static JobLockPolicy? Get(Type jobType, MethodInfo method)
    {
        if (Cache.TryGetValue((jobType, method), out var cached))
        {
            return cached;
        }

        var policy = Resolve(jobType, method); // not cached when it throws: the error repeats at every enqueue
        Cache.TryAdd((jobType, method), policy);
        return policy;
    }

    /// <summary>The policy for a job without an attribute when every job is locked.</summary>
    public static JobLockPolicy ForEveryJob(Type jobType, MethodInfo method, LockContention contention) =>
        new("LockEveryJob", JobKeyBinder.Create(jobType, method, null), contention == LockContention.Default ? LockContention.Fail : contention, null, null, false);

    private static JobLockPolicy? Resolve(Type jobType, MethodInfo method)
    {
        var metadata = Single(jobType, method, method.GetCustomAttributes(inherit: true))
            ?? Single(jobType, method, jobType.GetCustomAttributes(inherit: true))
            ?? (method.DeclaringType is { } declaring ? Single(jobType, method, declaring.GetCustomAttributes(inherit: true)) : null);
        if (metadata is null)
        {
            return null;
        }

        var kind = metadata.IsSingleton ? "Singleton" : "DistributedLock";
        TimeSpan? timeout;
        TimeSpan? delay;
        try
        {
            timeout = metadata.WaitTimeout;
            delay = metadata.RescheduleDelay;
            Locks.LockRequest.Validate(metadata.MaxConcurrency, metadata.Access, $"[{kind}(\"{metadata.Key}\")]");
        }
        catch (FormatException ex)
        {
            throw new JobLockKeyException($"Job {JobKeyBinder.DisplayName(jobType, method)}: {ex.Message}", ex);
        }

        var contention = metadata.OnContention switch
        {
            LockContention.Default => metadata.IsSingleton ? LockContention.Skip : LockContention.Fail,
            var declared when Enum.IsDefined(declared) => declared,
            var unknown => throw new JobLockKeyException($"Job {JobKeyBinder.DisplayName(jobType, method)}: [{kind}] OnContention {unknown} is not a LockContention value."),
        };

        return new JobLockPolicy(kind, JobKeyBinder.Create(jobType, method, metadata.Key), contention, timeout, delay, metadata.IsSingleton, metadata.MaxConcurrency, metadata.Access);
    }

    private static IDistributedLockMetadata? Single(Type jobType, MethodInfo method, object[] attributes)
    {
        var all = attributes.OfType<IDistributedLockMetadata>().ToArray();
        return all.Length <= 1
            ? all.FirstOrDefault()
            : throw new JobLockKeyException($"Job {JobKeyBinder.DisplayName(jobType, method)} has {all.Length} lock attributes ({string.Join(", ", all.Select(a => a.GetType().Name))}) in one place; use one.");
    }
}

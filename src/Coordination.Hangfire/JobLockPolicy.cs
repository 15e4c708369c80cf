using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;

namespace Coordination.Hangfire;

/// <summary>
/// The lock a job method runs under, read once per (job type, method) from, in order: a <see cref="JobLockAttribute"/>
/// on the method, one on the type, or the compile-time aspect's <c>Coordination.SingletonAttribute</c> on the method.
/// </summary>
internal sealed record JobLockPolicy(
    string Kind,
    JobKeyBinder Binder,
    LockContention Contention,
    TimeSpan? Timeout,
    TimeSpan? RescheduleDelay,
    bool CoalesceRecurring)
{
    private const string AspectAttributeName = "Coordination.SingletonAttribute";
    private static readonly ConcurrentDictionary<(Type, MethodInfo), JobLockPolicy?> Cache = new();

    /// <summary>Returns the policy, or null when the job has no lock attribute.</summary>
    /// <exception cref="JobLockKeyException">The attribute's key template does not fit the method.</exception>
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
        new("LockEveryJob", JobKeyBinder.Create(jobType, method, null), contention, null, null, false);

    private static JobLockPolicy? Resolve(Type jobType, MethodInfo method)
    {
        var attribute = Single(jobType, method, method.GetCustomAttributes<JobLockAttribute>(inherit: true))
            ?? Single(jobType, method, jobType.GetCustomAttributes<JobLockAttribute>(inherit: true))
            ?? (method.DeclaringType is { } declaring ? Single(jobType, method, declaring.GetCustomAttributes<JobLockAttribute>(inherit: true)) : null);
        if (attribute is not null)
        {
            return new JobLockPolicy(
                attribute.Kind,
                JobKeyBinder.Create(jobType, method, attribute.Key),
                attribute.OnContention,
                attribute.TimeoutValue,
                attribute.RescheduleDelayValue,
                attribute is SingletonAttribute);
        }

        var aspect = method.GetCustomAttributes(inherit: true).FirstOrDefault(a => a.GetType().FullName == AspectAttributeName);
        return aspect is null ? null : FromAspect(jobType, method, aspect);
    }

    private static JobLockAttribute? Single(Type jobType, MethodInfo method, IEnumerable<JobLockAttribute> found)
    {
        var all = found.ToArray();
        return all.Length <= 1
            ? all.FirstOrDefault()
            : throw new JobLockKeyException($"Job {JobKeyBinder.DisplayName(jobType, method)} has {all.Length} lock attributes ({string.Join(", ", all.Select(a => a.Kind))}) in one place; use one.");
    }

    // The aspect attribute lives in another assembly that this one must not reference, so it is read by reflection:
    // Key (string), an optional GetWaitTimeout() or Timeout, and OnContention by name (Skip, Wait, Throw/Fail, Reschedule).
    private static JobLockPolicy FromAspect(Type jobType, MethodInfo method, object aspect)
    {
        var type = aspect.GetType();
        var key = type.GetProperty("Key")?.GetValue(aspect) as string;
        var contentionName = type.GetProperty("OnContention")?.GetValue(aspect)?.ToString();
        TimeSpan? timeout = null;
        try
        {
            if (type.GetMethod("GetWaitTimeout", Type.EmptyTypes)?.Invoke(aspect, null) is TimeSpan t)
            {
                timeout = t;
            }
            else
            {
                timeout = type.GetProperty("Timeout")?.GetValue(aspect) switch
                {
                    TimeSpan span => span,
                    string s => TimeSpan.Parse(s, CultureInfo.InvariantCulture),
                    _ => null,
                };
            }
        }
        catch (Exception ex) when (ex is TargetInvocationException or FormatException or OverflowException)
        {
            throw new JobLockKeyException($"Job {JobKeyBinder.DisplayName(jobType, method)}: [Singleton(\"{key}\")] has an invalid timeout: {(ex.InnerException ?? ex).Message}", ex);
        }

        var contention = contentionName switch
        {
            "Skip" => LockContention.Skip,
            "Reschedule" => LockContention.Reschedule,
            "Throw" or "Fail" => timeout == System.Threading.Timeout.InfiniteTimeSpan ? LockContention.Wait : LockContention.Fail,
            _ => LockContention.Wait,
        };
        if (contention == LockContention.Fail && timeout is { } wait && wait > TimeSpan.Zero)
        {
            contention = LockContention.Wait; // wait up to the timeout, then fail: the same outcome as the aspect's Throw
        }

        return new JobLockPolicy("Singleton", JobKeyBinder.Create(jobType, method, key), contention, timeout, null, true);
    }
}

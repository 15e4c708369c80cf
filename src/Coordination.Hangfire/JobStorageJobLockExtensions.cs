using Coordination.Hangfire;

namespace Hangfire;

/// <summary>Startup validation of the lock key templates of registered recurring jobs.</summary>
public static class JobStorageJobLockExtensions
{
    /// <summary>
    /// Checks every recurring job in <paramref name="storage"/> whose method has a lock attribute: each key placeholder
    /// must name a parameter and bind to the stored arguments. Call it at startup to fail fast instead of at the first trigger.
    /// </summary>
    /// <exception cref="JobLockKeyException">One or more recurring jobs have a key that does not bind; the message lists them all.</exception>
    public static void ValidateJobLockKeys(this JobStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var errors = new List<string>();
        Exception? first = null;
        using var connection = storage.GetConnection();
        foreach (var recurring in global::Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection))
        {
            if (recurring.Job is not { } job)
            {
                continue;
            }

            try
            {
                JobLockPolicy.Get(job.Type, job.Method)?.Binder.Bind(job.Args);
            }
            catch (JobLockKeyException ex)
            {
                first ??= ex;
                errors.Add($"recurring job '{recurring.Id}': {ex.Message}");
            }
        }

        if (first is not null)
        {
            throw new JobLockKeyException($"{errors.Count} recurring job(s) have a lock key that does not bind: " + string.Join(" | ", errors), first);
        }
    }
}

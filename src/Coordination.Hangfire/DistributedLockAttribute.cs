namespace Coordination.Hangfire;

/// <summary>
/// Runs the job inside the distributed lock named by <see cref="JobLockAttribute.Key"/>, e.g.
/// <c>[DistributedLock("invoices:{customerId}")]</c>, so jobs with the same key never overlap across servers.
/// Waits for the lock by default; set <see cref="JobLockAttribute.OnContention"/> to skip, reschedule or fail instead.
/// </summary>
public sealed class DistributedLockAttribute : JobLockAttribute
{
    /// <summary>Locks on a key made from the job's type and method.</summary>
    public DistributedLockAttribute() : base(null, LockContention.Wait) { }

    /// <summary>Locks on <paramref name="key"/>, a template whose placeholders name job method parameters.</summary>
    public DistributedLockAttribute(string key) : base(key ?? throw new ArgumentNullException(nameof(key), "A lock key template is required; use the parameterless constructor for a key from the job's type and method."), LockContention.Wait) { }

    internal override string Kind => "DistributedLock";
}

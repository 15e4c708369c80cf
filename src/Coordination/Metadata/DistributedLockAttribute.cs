namespace Coordination;

/// <summary>
/// Runs the marked work inside the distributed lock named by <see cref="DistributedLockMetadataAttribute.Key"/>, so work
/// with the same key never overlaps across processes: a controller or action, a minimal-API handler (or
/// <c>.WithDistributedLock(...)</c>), a Hangfire job method or class, or any async method (with Coordination.Aspects).
/// By default an endpoint tries once and answers 409, a job waits then fails (retry applies), a method waits.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DistributedLockAttribute : DistributedLockMetadataAttribute
{
    /// <summary>Locks on the host's default key (Hangfire: the job's type and method; endpoints and methods need a key).</summary>
    public DistributedLockAttribute()
        : base(null)
    {
    }

    /// <summary>Locks on <paramref name="key"/>, a template whose placeholders the host fills (<c>orders:{id}</c>).</summary>
    public DistributedLockAttribute(string key)
        : base(key)
    {
    }

    /// <inheritdoc />
    public override bool IsSingleton => false;
}

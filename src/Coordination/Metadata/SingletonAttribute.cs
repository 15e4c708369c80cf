namespace Coordination;

/// <summary>
/// Lets at most one run of the marked work proceed at a time per expanded key, across processes: an endpoint, a
/// Hangfire job method or class, or any async method (with Coordination.Aspects, which rewrites call sites at
/// compile time). A Hangfire job that finds another run in progress is skipped by default, and a recurring
/// occurrence another server already ran is skipped; an endpoint answers 409; a method call waits, then throws.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class SingletonAttribute : DistributedLockMetadataAttribute
{
    /// <summary>One run per job type and method (Hangfire); endpoints and methods need a key.</summary>
    public SingletonAttribute()
        : base(null)
    {
    }

    /// <summary>One run per expanded <paramref name="key"/> (<c>reports:{tenant}</c>, <c>orders:{order.Id}</c>).</summary>
    public SingletonAttribute(string key)
        : base(key)
    {
    }

    /// <inheritdoc />
    public override bool IsSingleton => true;
}

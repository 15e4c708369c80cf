namespace Coordination.Hangfire;

/// <summary>
/// Lets at most one instance of the job run at a time across all servers, e.g. <c>[Singleton("nightly-billing")]</c>.
/// A run that finds another one in progress is skipped by default (Deleted, reason stated), and when the job is a
/// recurring job, an occurrence is also skipped if another run of it started after the occurrence was triggered, so
/// the same occurrence fired on several servers runs once.
/// </summary>
public sealed class SingletonAttribute : JobLockAttribute
{
    /// <summary>One instance per job type and method.</summary>
    public SingletonAttribute() : base(null, LockContention.Skip) { }

    /// <summary>One instance per <paramref name="key"/> (a template; placeholders name job method parameters).</summary>
    public SingletonAttribute(string key) : base(key ?? throw new ArgumentNullException(nameof(key), "A singleton key is required; use the parameterless constructor for a key from the job's type and method."), LockContention.Skip) { }

    internal override string Kind => "Singleton";
}

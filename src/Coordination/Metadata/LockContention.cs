namespace Coordination;

/// <summary>
/// What happens when a lock stays held past the wait timeout. Each value means the same everywhere: the guarded work
/// does not run, and the caller learns it the way its host allows.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>value</term><description>endpoint · Hangfire job · method (aspect)</description></listheader>
/// <item><term><see cref="Default"/></term><description>the host's default: endpoint <see cref="Fail"/>; job <see cref="Fail"/> for <c>[DistributedLock]</c>, <see cref="Skip"/> for <c>[Singleton]</c>; method <see cref="Fail"/>.</description></item>
/// <item><term><see cref="Fail"/></term><description>contention status (409) · the attempt fails, retry applies · throws <c>SingletonContentionException</c>.</description></item>
/// <item><term><see cref="Skip"/></term><description>contention status (409; a request cannot be dropped silently) · Deleted, reason stated · completes with the default result.</description></item>
/// <item><term><see cref="Reschedule"/></term><description>contention status (409) with <c>Retry-After</c> · Scheduled after the reschedule delay · throws, as <see cref="Fail"/>.</description></item>
/// </list>
/// An unset timeout means: try once for <see cref="Skip"/> and <see cref="Reschedule"/> (and for a <c>[Singleton]</c> job);
/// otherwise the host's default wait (endpoint <c>DefaultTimeout</c>, try once; job <c>DefaultWaitTimeout</c>, 30 s;
/// method: no limit).
/// </remarks>
public enum LockContention
{
    /// <summary>The host's default for the attribute (see the table on <see cref="LockContention"/>).</summary>
    Default = 0,

    /// <summary>The work does not run and the caller sees a failure: a contention status, a failed attempt, an exception.</summary>
    Fail = 1,

    /// <summary>The work does not run and that is not an error: another run covers it.</summary>
    Skip = 2,

    /// <summary>The work does not run now and should be tried again later (a job goes back to Scheduled).</summary>
    Reschedule = 3,
}

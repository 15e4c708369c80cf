namespace Coordination.AspNetCore;

/// <summary>
/// How a locked endpoint answers when it does not get its lock, and whether it shows the fencing token: the HTTP half
/// of a lock declaration, which the core <see cref="DistributedLockAttribute"/> / <see cref="SingletonAttribute"/>
/// cannot carry. Put it on a controller or action, or write <c>.WithDistributedLockResponse(...)</c>; both add this
/// same metadata, the most specific wins, and unset values use <see cref="DistributedLockEndpointOptions"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DistributedLockResponseAttribute : Attribute
{
    /// <summary>
    /// Status code of a request that did not get the lock within the timeout (for example 409 or 423).
    /// 0, the default, uses <see cref="DistributedLockEndpointOptions.ContentionStatusCode"/>.
    /// </summary>
    public int ContentionStatusCode { get; set; }

    /// <summary>
    /// Adds the fencing token to the response in the <see cref="DistributedLockEndpointOptions.FencingTokenHeaderName"/>
    /// header, so clients can pass it on to storage that rejects stale writers. Off unless set here or globally.
    /// </summary>
    public bool ExposeFencingTokenHeader { get; set; }

    /// <summary>
    /// Writes the response of a request that did not get the lock, instead of the default ProblemDetails; set from
    /// code only. The status code and <c>Retry-After</c> are already set when it runs. Overrides
    /// <see cref="DistributedLockEndpointOptions.OnContention"/>.
    /// </summary>
    public Func<DistributedLockContentionContext, CancellationToken, ValueTask>? OnContention { get; set; }
}

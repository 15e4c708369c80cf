namespace Coordination.AspNetCore;

/// <summary>
/// Passed to an <c>OnContention</c> callback when a request did not get its lock within the timeout. The status code
/// and <c>Retry-After</c> header are already set on <see cref="HttpContext"/>'s response; the callback may change them
/// and write the body.
/// </summary>
public sealed class DistributedLockContentionContext
{
    internal DistributedLockContentionContext(Microsoft.AspNetCore.Http.HttpContext httpContext, string key, string keyTemplate, TimeSpan timeout)
    {
        HttpContext = httpContext;
        Key = key;
        KeyTemplate = keyTemplate;
        Timeout = timeout;
    }

    /// <summary>The rejected request.</summary>
    public Microsoft.AspNetCore.Http.HttpContext HttpContext { get; }

    /// <summary>The expanded lock key that was held by someone else.</summary>
    public string Key { get; }

    /// <summary>The endpoint's key template.</summary>
    public string KeyTemplate { get; }

    /// <summary>How long the request waited (zero for try-once).</summary>
    public TimeSpan Timeout { get; }
}

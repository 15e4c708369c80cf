using Coordination;
using Coordination.AspNetCore;
using Coordination.AspNetCore.Middleware;
using Coordination.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// <c>.WithDistributedLock(...)</c>, <c>.WithDistributedLockResponse(...)</c> and <c>.DisableDistributedLock()</c> for
/// minimal-API endpoints, route groups and controller conventions; they add the same metadata as
/// <see cref="DistributedLockAttribute"/>, <see cref="DistributedLockResponseAttribute"/> and
/// <see cref="DisableDistributedLockAttribute"/>.
/// </summary>
public static class DistributedLockEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Runs the endpoint (or every endpoint of the group) inside the distributed lock named by
    /// <paramref name="keyTemplate"/>, e.g. <c>orders:{id}</c>; <paramref name="configure"/> sets the wait timeout and
    /// contention intent. A declaration on an endpoint overrides its group's.
    /// </summary>
    /// <exception cref="ArgumentException">The template is empty or malformed, or the timeout is invalid.</exception>
    public static TBuilder WithDistributedLock<TBuilder>(this TBuilder builder, string keyTemplate, Action<DistributedLockAttribute>? configure = null)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyTemplate);
        _ = KeyTemplate.Parse(keyTemplate);
        var metadata = new DistributedLockAttribute(keyTemplate);
        configure?.Invoke(metadata);
        try
        {
            _ = metadata.WaitTimeout;
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, nameof(configure), ex);
        }

        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        if (builder is RouteHandlerBuilder or RouteGroupBuilder)
        {
            // Fail closed if UseDistributedLocks() was placed where it cannot see the endpoint.
            builder.AddEndpointFilter(LockPresenceGuard.FilterAsync);
        }

        return builder;
    }

    /// <summary>
    /// Sets how the endpoint (or every endpoint of the group) answers when it does not get its lock: status code,
    /// callback, fencing-token header. Pairs with <c>.WithDistributedLock(...)</c> or a lock attribute.
    /// </summary>
    /// <exception cref="ArgumentException">The status code is not 0, 4xx or 5xx.</exception>
    public static TBuilder WithDistributedLockResponse<TBuilder>(this TBuilder builder, Action<DistributedLockResponseAttribute> configure)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var metadata = new DistributedLockResponseAttribute();
        configure(metadata);
        if (metadata.ContentionStatusCode is not 0 and (< 400 or > 599))
        {
            throw new ArgumentException($"ContentionStatusCode must be a 4xx or 5xx status code (or 0 for the default); got {metadata.ContentionStatusCode}.", nameof(configure));
        }

        builder.Add(endpoint => endpoint.Metadata.Add(metadata));
        return builder;
    }

    /// <summary>Opts the endpoint out of a distributed lock declared on its group or convention.</summary>
    public static TBuilder DisableDistributedLock<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(endpoint => endpoint.Metadata.Add(DisableDistributedLockAttribute.Instance));
        return builder;
    }
}

namespace Coordination.Discovery;

/// <summary>Options of the lookup side (<c>AddServiceDiscovery()</c> on the coordination builder).</summary>
public sealed class CoordinationServiceDiscoveryOptions
{
    /// <summary>
    /// How long a cold lookup (first lookup of a service in this process) waits for ZooKeeper before it answers from
    /// the Redis copy instead. Default 1 s.
    /// </summary>
    public TimeSpan ColdLookupTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How an <c>HttpClient</c> with <c>AddServiceDiscovery()</c> picks one endpoint per request. Round robin by default.
    /// With <see cref="ServiceLoadBalancing.Random"/> the provider publishes one endpoint that picks at random each time
    /// it is read, so other users of <c>ServiceEndpointResolver</c> see a single endpoint; use
    /// <see cref="IServiceDiscovery"/> for the full list.
    /// </summary>
    public ServiceLoadBalancing LoadBalancing { get; set; } = ServiceLoadBalancing.RoundRobin;

    /// <summary>Write the watched instance lists to Redis (<c>&lt;prefix&gt;services:&lt;name&gt;</c>) for cold lookups and tools. Default true.</summary>
    public bool ShareInRedis { get; set; } = true;
}

namespace Coordination.Discovery;

/// <summary>How an <c>HttpClient</c> using service discovery picks one endpoint per request.</summary>
public enum ServiceLoadBalancing
{
    /// <summary>Each request takes the next endpoint in turn (Microsoft.Extensions.ServiceDiscovery's own selector).</summary>
    RoundRobin,

    /// <summary>Each request takes an endpoint at random.</summary>
    Random,
}

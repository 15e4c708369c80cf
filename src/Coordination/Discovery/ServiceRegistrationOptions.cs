namespace Coordination.Discovery;

/// <summary>Options of <c>AddServiceRegistration(name, ...)</c>: what an instance announces about itself.</summary>
public sealed class ServiceRegistrationOptions
{
    /// <summary>
    /// Absolute URIs to announce, e.g. <c>http://orders-1.internal:8080</c>. When empty (the default) the server's
    /// bound addresses are announced once it has started (ASP.NET Core's <c>IServerAddressesFeature</c>); wildcard
    /// hosts (<c>0.0.0.0</c>, <c>[::]</c>, <c>+</c>, <c>*</c>) are replaced by <see cref="AdvertisedHost"/>.
    /// </summary>
    public IList<string> Endpoints { get; } = new List<string>();

    /// <summary>Free-form metadata stored with the instance (zone, weight, ...).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The version to announce; defaults to the entry assembly's informational version.</summary>
    public string? Version { get; set; }

    /// <summary>
    /// The instance id (the node's name): 1..128 characters of [a-z0-9-._], unique within the service. Defaults to
    /// <c>&lt;machine&gt;-&lt;pid&gt;-&lt;random&gt;</c>.
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>
    /// Host name announced in place of a wildcard bound address. Defaults to the machine's host name
    /// (<see cref="System.Net.Dns.GetHostName"/>), so other machines can reach the instance.
    /// </summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>
    /// Withhold the registration while the app's health checks (<c>HealthCheckService</c>) report Unhealthy, and keep
    /// the announced status (up, degraded, unhealthy) in step with them afterwards. Needs <c>services.AddHealthChecks()</c>. Off by default.
    /// </summary>
    public bool WaitForHealthy { get; set; }

    /// <summary>How often health is checked when <see cref="WaitForHealthy"/> is on. Default 5 s.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}

namespace Coordination.Discovery;

/// <summary>One registered instance of a service, as stored in its ephemeral ZooKeeper node.</summary>
/// <param name="ServiceName">The service the instance belongs to.</param>
/// <param name="InstanceId">The instance id (the node's name), unique within the service.</param>
/// <param name="Endpoints">Absolute URIs the instance serves on, e.g. <c>http://10.0.0.5:8080/</c>.</param>
/// <param name="Version">The version the instance announced, or null.</param>
/// <param name="Metadata">Free-form key/value metadata announced by the instance.</param>
/// <param name="Status">The instance's health status, see <see cref="ServiceInstanceStatus"/>.</param>
/// <param name="RegisteredAt">When the instance registered (its own clock).</param>
public sealed record ServiceInstance(
    string ServiceName,
    string InstanceId,
    IReadOnlyList<Uri> Endpoints,
    string? Version,
    IReadOnlyDictionary<string, string> Metadata,
    string Status,
    DateTimeOffset RegisteredAt)
{
    /// <summary>True unless the instance reported itself <see cref="ServiceInstanceStatus.Unhealthy"/>.</summary>
    public bool IsAvailable => !string.Equals(Status, ServiceInstanceStatus.Unhealthy, StringComparison.OrdinalIgnoreCase);
}

namespace Coordination.Discovery;

/// <summary>
/// Finds the registered instances of a service. Lookups are answered from a local cache kept current by
/// ZooKeeper watches; a cold lookup falls back to the copy shared in Redis when ZooKeeper is slow or down.
/// </summary>
public interface IServiceDiscovery
{
    /// <summary>Raised when the known instances of a watched service change (a service is watched after its first lookup).</summary>
    event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

    /// <summary>Returns the instances of <paramref name="serviceName"/>, ordered by instance id (empty when none are registered).</summary>
    /// <exception cref="ArgumentException">The service name is invalid.</exception>
    /// <exception cref="ServiceDiscoveryException">Neither ZooKeeper nor the Redis copy could answer.</exception>
    ValueTask<IReadOnlyList<ServiceInstance>> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default);
}

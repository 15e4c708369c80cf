namespace Coordination.Discovery;

/// <summary>Arguments of <see cref="IServiceDiscovery.InstancesChanged"/>: the new set of instances of one service.</summary>
public sealed class ServiceInstancesChangedEventArgs(string serviceName, IReadOnlyList<ServiceInstance> instances) : EventArgs
{
    /// <summary>The service whose instances changed.</summary>
    public string ServiceName { get; } = serviceName;

    /// <summary>The instances now known, ordered by instance id.</summary>
    public IReadOnlyList<ServiceInstance> Instances { get; } = instances;
}

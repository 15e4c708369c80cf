using Microsoft.Extensions.DependencyInjection;

namespace Coordination;

/// <summary>Returned by <c>AddHybridCoordination()</c> to add optional parts (health checks, configuration, discovery).</summary>
public interface IHybridCoordinationBuilder
{
    /// <summary>The service collection the parts are added to.</summary>
    IServiceCollection Services { get; }
}

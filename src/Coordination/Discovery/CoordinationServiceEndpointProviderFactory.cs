using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace Coordination.Discovery;

/// <summary>
/// Plugs discovery into Microsoft.Extensions.ServiceDiscovery: a query such as <c>http://orders-api</c> resolves to
/// the endpoints of the registered instances of <c>orders-api</c> (those not reporting Unhealthy), refreshed by a
/// change token whenever the watched instances change.
/// </summary>
internal sealed class CoordinationServiceEndpointProviderFactory(ZooKeeperServiceDiscovery discovery, IOptions<ServiceDiscoveryOptions> options, IOptions<CoordinationServiceDiscoveryOptions> ours) : IServiceEndpointProviderFactory
{
    public bool TryCreateProvider(ServiceEndpointQuery query, [NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!IsServiceName(query.ServiceName))
        {
            provider = null;
            return false;
        }

        provider = new Provider(discovery, query, options.Value, ours.Value.LoadBalancing);
        return true;
    }

    private static bool IsServiceName(string name)
    {
        try
        {
            ServiceNames.Validate(name, "service name", nameof(name));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private sealed class Provider(ZooKeeperServiceDiscovery discovery, ServiceEndpointQuery query, ServiceDiscoveryOptions options, ServiceLoadBalancing balancing) : IServiceEndpointProvider
    {
        public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
        {
            var (instances, changeToken) = await discovery.GetSnapshotAsync(query.ServiceName, cancellationToken).ConfigureAwait(false);
            endpoints.AddChangeToken(changeToken);
            var schemes = AllowedSchemes(query.IncludedSchemes);
            var selected = instances.Where(i => i.IsAvailable).SelectMany(i => Select(i.Endpoints, schemes)).ToList();
            if (balancing == ServiceLoadBalancing.Random && selected.Count > 1)
            {
                endpoints.Endpoints.Add(new RandomServiceEndpoint(selected));
                return;
            }

            foreach (var uri in selected)
            {
                endpoints.Endpoints.Add(ServiceEndpoint.Create(new UriEndPoint(uri)));
            }
        }

        // "https+http://svc" lists schemes in preference order; each instance contributes its endpoints of the first
        // scheme it offers. No scheme in the query means every endpoint.
        private static IEnumerable<Uri> Select(IReadOnlyList<Uri> endpoints, IReadOnlyList<string> schemes)
        {
            if (schemes.Count == 0)
            {
                return endpoints;
            }

            foreach (var scheme in schemes)
            {
                var match = endpoints.Where(e => string.Equals(e.Scheme, scheme, StringComparison.OrdinalIgnoreCase)).ToList();
                if (match.Count > 0)
                {
                    return match;
                }
            }

            return [];
        }

        private IReadOnlyList<string> AllowedSchemes(IReadOnlyList<string> requested)
        {
            if (options.AllowAllSchemes || options.AllowedSchemes is null or { Count: 0 })
            {
                return requested;
            }

            return [.. requested.Where(s => options.AllowedSchemes.Contains(s, StringComparer.OrdinalIgnoreCase))];
        }

        public override string ToString() => $"Coordination ({query.ServiceName})";

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

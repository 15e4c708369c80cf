using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.ServiceDiscovery;

namespace Coordination.Discovery;

/// <summary>
/// One endpoint standing for several: every read of <see cref="EndPoint"/> picks one of them at random.
/// </summary>
/// <remarks>
/// Microsoft.Extensions.ServiceDiscovery 10 always selects round robin (its selector interface is internal). Its HTTP
/// handler reads <see cref="EndPoint"/> once per request, so publishing this single endpoint turns the round robin
/// over one entry into a random choice per request.
/// </remarks>
internal sealed class RandomServiceEndpoint(IReadOnlyList<Uri> endpoints) : ServiceEndpoint
{
    private readonly UriEndPoint[] _endpoints = [.. endpoints.Select(e => new UriEndPoint(e))];

    public override EndPoint EndPoint => _endpoints[Random.Shared.Next(_endpoints.Length)];

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override string ToString() => $"random({string.Join(", ", _endpoints.Select(e => e.Uri))})";
}

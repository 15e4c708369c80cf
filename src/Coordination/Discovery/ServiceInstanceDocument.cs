using System.Text.Json;
using System.Text.Json.Serialization;

namespace Coordination.Discovery;

/// <summary>The JSON stored in an instance node: <c>{instanceId, endpoints[], version, metadata, status, registeredAt}</c>.</summary>
internal sealed class ServiceInstanceDocument
{
    public string InstanceId { get; set; } = "";

    public List<string> Endpoints { get; set; } = [];

    public string? Version { get; set; }

    public Dictionary<string, string> Metadata { get; set; } = [];

    public string Status { get; set; } = ServiceInstanceStatus.Up;

    public DateTimeOffset RegisteredAt { get; set; }

    public static ServiceInstanceDocument From(ServiceInstance instance) => new()
    {
        InstanceId = instance.InstanceId,
        Endpoints = [.. instance.Endpoints.Select(e => e.OriginalString)],
        Version = instance.Version,
        Metadata = new Dictionary<string, string>(instance.Metadata, StringComparer.Ordinal),
        Status = instance.Status,
        RegisteredAt = instance.RegisteredAt,
    };

    /// <summary>Turns the document into an instance; null when it is unusable (no id, no parseable endpoint).</summary>
    public ServiceInstance? ToInstance(string serviceName, string nodeName)
    {
        var id = string.IsNullOrEmpty(InstanceId) ? nodeName : InstanceId;
        var endpoints = new List<Uri>();
        foreach (var e in Endpoints ?? [])
        {
            if (Uri.TryCreate(e, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.Host))
            {
                endpoints.Add(uri);
            }
        }

        if (endpoints.Count == 0)
        {
            return null;
        }

        return new ServiceInstance(serviceName, id, endpoints, Version, Metadata ?? [], string.IsNullOrEmpty(Status) ? ServiceInstanceStatus.Up : Status, RegisteredAt);
    }

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, DiscoveryJsonContext.Default.ServiceInstanceDocument);

    /// <summary>Parses node data; null when it is not a valid document.</summary>
    public static ServiceInstanceDocument? TryParse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, DiscoveryJsonContext.Default.ServiceInstanceDocument);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The copy of a service's instance list shared in Redis under <c>&lt;prefix&gt;services:&lt;name&gt;</c>.</summary>
internal sealed class ServiceListDocument
{
    public string Service { get; set; } = "";

    /// <summary>The ZooKeeper zxid the list reflects (largest of the parent's pzxid and the nodes' mzxid); newer copies win.</summary>
    public long Zxid { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<ServiceInstanceDocument> Instances { get; set; } = [];
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ServiceInstanceDocument))]
[JsonSerializable(typeof(ServiceListDocument))]
internal sealed partial class DiscoveryJsonContext : JsonSerializerContext;

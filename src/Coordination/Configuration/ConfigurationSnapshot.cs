using System.Text;
using System.Text.Json;

namespace Coordination.Configuration;

/// <summary>A flattened configuration and the ZooKeeper version (largest zxid) it reflects; the unit cached in Redis.</summary>
internal sealed record ConfigurationSnapshot(IReadOnlyDictionary<string, string?> Data, long Version)
{
    public static ConfigurationSnapshot Empty { get; } = new(new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase), 0);

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("version", Version);
            w.WriteStartObject("data");
            foreach (var (k, v) in Data.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
            {
                if (v is null)
                {
                    w.WriteNull(k);
                }
                else
                {
                    w.WriteString(k, v);
                }
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <exception cref="JsonException">The text is not a snapshot.</exception>
    public static ConfigurationSnapshot FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var version = doc.RootElement.GetProperty("version").GetInt64();
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in doc.RootElement.GetProperty("data").EnumerateObject())
        {
            data[p.Name] = p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetString();
        }

        return new ConfigurationSnapshot(data, version);
    }

    /// <summary>Keys added, removed or changed between two configurations, sorted.</summary>
    public static List<string> Diff(IReadOnlyDictionary<string, string?> before, IReadOnlyDictionary<string, string?> after)
    {
        var changed = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in after)
        {
            if (!before.TryGetValue(k, out var old) || !string.Equals(old, v, StringComparison.Ordinal))
            {
                changed.Add(k);
            }
        }

        foreach (var k in before.Keys)
        {
            if (!after.ContainsKey(k))
            {
                changed.Add(k);
            }
        }

        return [.. changed];
    }
}

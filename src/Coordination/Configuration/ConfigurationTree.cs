using System.Text;
using System.Text.Json;
using Coordination.ZooKeeper;

namespace Coordination.Configuration;

/// <summary>
/// The znode subtree under a root and its mapping to configuration keys.
/// </summary>
/// <remarks>
/// Mapping: the node <c>{root}/A/B</c> is the key <c>A:B</c>; its data (UTF-8) is the value. Data whose first
/// non-blank character is <c>{</c> or <c>[</c> is a JSON document flattened under the node's key the way the JSON file
/// provider does it (<c>A:B:Child</c>, <c>A:B:0</c>). Empty data means the node only groups children (no key); plain data on
/// the root itself is ignored (the root has no key), JSON on the root is flattened at the top level.
/// Precedence: deeper nodes win, so <c>{root}/A/B</c> overrides property <c>B</c> of a JSON document on <c>{root}/A</c>;
/// nodes of the same depth whose keys differ only in case are applied in ordinal path order (the last wins).
/// Malformed data (invalid UTF-8 or JSON, bigger than MaxValueBytes) keeps the node's last good values and is reported.
/// Version: the largest mzxid/pzxid of the tree (and the pzxid of the root's parent), so a newer state has a larger version.
/// </remarks>
internal sealed class ConfigurationTree(string root, int maxValueBytes)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    private long _anchorPzxid;

    public string Root => root;

    public int Count => _nodes.Count;

    public long Version
    {
        get
        {
            var v = _anchorPzxid;
            foreach (var n in _nodes.Values)
            {
                v = Math.Max(v, Math.Max(n.Stat.Mzxid, n.Stat.Pzxid));
            }

            return v;
        }
    }

    /// <summary>Malformed nodes: path → reason.</summary>
    public Dictionary<string, string> Errors() =>
        _nodes.Where(n => n.Value.Error is not null).ToDictionary(n => n.Key, n => n.Value.Error!, StringComparer.Ordinal);

    public bool Contains(string path) => _nodes.ContainsKey(path);

    public bool IsWithin(string path) => path == root || path.StartsWith(root + "/", StringComparison.Ordinal);

    public void SetAnchor(long pzxid) => _anchorPzxid = Math.Max(_anchorPzxid, pzxid);

    public void ResetAnchor(long pzxid) => _anchorPzxid = pzxid;

    /// <summary>Stores a node read; returns the reason when its data is malformed (its last good values are kept).</summary>
    public string? Set(string path, byte[] data, ZooKeeperStat stat)
    {
        _nodes.TryGetValue(path, out var old);
        var error = Parse(KeyOf(path), data, out var values);
        _nodes[path] = error is null
            ? new Node(stat, values, null)
            : new Node(stat, old?.Values ?? [], error);
        return error is not null && (old?.Error != error || old.Stat.Mzxid != stat.Mzxid) ? error : null;
    }

    /// <summary>Updates the stat of a known node (its pzxid moved because a child went away).</summary>
    public void UpdateStat(string path, ZooKeeperStat stat)
    {
        if (_nodes.TryGetValue(path, out var old))
        {
            _nodes[path] = old with { Stat = stat };
        }
    }

    /// <summary>Removes a node and everything under it.</summary>
    public void Remove(string path)
    {
        _nodes.Remove(path);
        var prefix = path + "/";
        foreach (var p in _nodes.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            _nodes.Remove(p);
        }
    }

    /// <summary>Replaces the whole tree with a fresh read, keeping last good values of nodes that turned malformed; returns new errors.</summary>
    public List<(string Path, string Error)> ReplaceAll(IEnumerable<(string Path, byte[] Data, ZooKeeperStat Stat)> nodes, long anchorPzxid)
    {
        var errors = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, data, stat) in nodes)
        {
            seen.Add(path);
            if (Set(path, data, stat) is { } e)
            {
                errors.Add((path, e));
            }
        }

        foreach (var gone in _nodes.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _nodes.Remove(gone);
        }

        _anchorPzxid = anchorPzxid;
        return errors;
    }

    /// <summary>The configuration the tree maps to (case-insensitive keys, deeper nodes win).</summary>
    public Dictionary<string, string?> Flatten()
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in _nodes.OrderBy(n => Depth(n.Key)).ThenBy(n => n.Key, StringComparer.Ordinal))
        {
            foreach (var (k, v) in node.Value.Values)
            {
                result[k] = v;
            }
        }

        return result;
    }

    private static int Depth(string path) => path.Count(c => c == '/');

    /// <summary>The configuration key of a node under the root ("" for the root).</summary>
    public string KeyOf(string path) => path.Length == root.Length ? string.Empty : path[(root.Length + 1)..].Replace('/', ':');

    /// <summary>The node of a configuration key (segments separated by ':'); throws naming the key when it cannot be a znode.</summary>
    public static string PathOf(string root, string key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException("The configuration key is empty; give a key such as 'Payments:Retries'.", nameof(key));
        }

        var path = root + "/" + key.Replace(':', '/');
        try
        {
            ZooKeeperPath.Validate(path, nameof(key));
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The configuration key '{key}' cannot be stored as a znode: {ex.Message}", nameof(key), ex);
        }

        return path;
    }

    private string? Parse(string key, byte[] data, out KeyValuePair<string, string?>[] values)
    {
        values = [];
        if (data.Length > maxValueBytes)
        {
            return $"the node holds {data.Length} bytes, more than MaxValueBytes ({maxValueBytes})";
        }

        string text;
        try
        {
            var span = data.AsSpan();
            if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            {
                span = span[3..];
            }

            text = StrictUtf8.GetString(span);
        }
        catch (DecoderFallbackException ex)
        {
            return $"the data is not valid UTF-8 ({ex.Message})";
        }

        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.Length > 0 && trimmed[0] is '{' or '[')
        {
            try
            {
                using var doc = JsonDocument.Parse(text, JsonOptions);
                var flat = new List<KeyValuePair<string, string?>>();
                Visit(doc.RootElement, key, flat);
                values = [.. flat];
                return null;
            }
            catch (JsonException ex)
            {
                return $"the data is not valid JSON ({ex.Message})";
            }
        }

        if (text.Length == 0 || key.Length == 0)
        {
            return null;
        }

        values = [new(key, text)];
        return null;
    }

    private static void Visit(JsonElement e, string prefix, List<KeyValuePair<string, string?>> into)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var anyProperty = false;
                foreach (var p in e.EnumerateObject())
                {
                    anyProperty = true;
                    Visit(p.Value, Combine(prefix, p.Name), into);
                }

                if (!anyProperty && prefix.Length > 0)
                {
                    into.Add(new(prefix, null));
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    Visit(item, Combine(prefix, i.ToString(System.Globalization.CultureInfo.InvariantCulture)), into);
                    i++;
                }

                if (i == 0 && prefix.Length > 0)
                {
                    into.Add(new(prefix, null));
                }

                break;
            default:
                into.Add(new(prefix, e.ToString()));
                break;
        }
    }

    private static string Combine(string prefix, string name) => prefix.Length == 0 ? name : prefix + ":" + name;

    private sealed record Node(ZooKeeperStat Stat, KeyValuePair<string, string?>[] Values, string? Error);
}

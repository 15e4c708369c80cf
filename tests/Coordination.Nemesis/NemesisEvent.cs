using System.Globalization;
using System.Text;

namespace Coordination.Nemesis;

/// <summary>
/// One line of a nemesis log: <c>timestamp \t source \t name [\t key=value]...</c>. The timestamp is
/// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, which on Linux reads CLOCK_MONOTONIC: one clock for every
/// process on the machine, so lines from different processes compare directly. The source is a worker task
/// (<c>w1.0</c>), a worker process (<c>w1</c>) or the orchestrator (<c>nemesis</c>).
/// </summary>
internal sealed record NemesisEvent(long Timestamp, string Source, string Name, IReadOnlyDictionary<string, string> Fields)
{
    /// <summary>The source of the orchestrator's own lines.</summary>
    public const string Orchestrator = "nemesis";

    /// <summary>The worker process a source belongs to (<c>w1.0</c> → <c>w1</c>).</summary>
    public string Worker => Source.Split('.')[0];

    public string? Field(string key) => Fields.TryGetValue(key, out var value) ? value : null;

    public long LongField(string key) =>
        long.TryParse(Field(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"Event '{Name}' from {Source} at {Timestamp} has no number '{key}'.");

    public static NemesisEvent Create(long timestamp, string source, string name, params (string Key, object Value)[] fields) =>
        new(timestamp, source, name, fields.ToDictionary(f => f.Key, f => Convert.ToString(f.Value, CultureInfo.InvariantCulture) ?? "", StringComparer.Ordinal));

    public string Format()
    {
        var line = new StringBuilder();
        line.Append(Timestamp.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(Source).Append('\t').Append(Name);
        foreach (var (key, value) in Fields)
        {
            // Values are numbers, identifiers or exception type names; tabs and newlines would break the line format.
            line.Append('\t').Append(key).Append('=').Append(value.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' '));
        }

        return line.ToString();
    }

    /// <summary>Parses one line; null for a blank line or one torn inside a field (a worker killed mid-write leaves at most one; each line goes out in one write).</summary>
    public static NemesisEvent? Parse(string line)
    {
        var parts = line.TrimEnd('\r').Split('\t');
        if (parts.Length < 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parts.AsSpan(3))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return null;
            }

            fields[part[..eq]] = part[(eq + 1)..];
        }

        return new NemesisEvent(timestamp, parts[1], parts[2], fields);
    }

    public static IEnumerable<NemesisEvent> ParseLines(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            if (Parse(line) is { } e)
            {
                yield return e;
            }
        }
    }
}

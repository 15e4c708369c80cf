using System.Text;
using System.Text.Json;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// What a <c>locks</c> run measured, for the report and the plots (<c>benchmarks/Coordination.Benchmarks.Plots</c>):
/// the machine, every table as printed, the uncontended latency samples per implementation (CDF) and the throughput
/// series. Written as JSON with <c>--out</c>; every table is also printed as markdown while the run goes.
/// </summary>
internal sealed class BenchResults
{
    public Dictionary<string, string> Machine { get; set; } = [];

    public List<BenchTable> Tables { get; set; } = [];

    /// <summary>Uncontended acquire+release latencies in ms, sorted, per implementation.</summary>
    public Dictionary<string, double[]> Latency { get; set; } = [];

    /// <summary>Distinct keys: implementation → [callers, acquire+release per second] points.</summary>
    public Dictionary<string, List<double[]>> ManyKeys { get; set; } = [];

    /// <summary>One key: implementation → [processes × tasks, grants per second] points.</summary>
    public Dictionary<string, List<double[]>> Contended { get; set; } = [];

    public void Add(BenchTable table)
    {
        Tables.RemoveAll(t => t.Id == table.Id);
        Tables.Add(table);
        Console.WriteLine();
        Console.Write(table.ToMarkdown());
    }

    public async Task WriteAsync(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(this, Json));
    }

    public static async Task<BenchResults> ReadAsync(string path) =>
        JsonSerializer.Deserialize<BenchResults>(await File.ReadAllTextAsync(path), Json) ?? throw new InvalidDataException($"{path} holds no results.");

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

}

/// <summary>One table of a run: an id the report refers to, a title, the header, the rows and a note.</summary>
internal sealed class BenchTable
{
    public string Id { get; set; } = "";

    public string Title { get; set; } = "";

    public string[] Header { get; set; } = [];

    public List<string[]> Rows { get; set; } = [];

    public string? Note { get; set; }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("| ").AppendJoin(" | ", Header).AppendLine(" |");
        sb.Append("| --- |").Append(string.Concat(Enumerable.Repeat(" ---: |", Header.Length - 1))).AppendLine();
        foreach (var row in Rows)
        {
            sb.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        }

        if (Note is not null)
        {
            sb.AppendLine().AppendLine(Note);
        }

        return sb.ToString();
    }
}

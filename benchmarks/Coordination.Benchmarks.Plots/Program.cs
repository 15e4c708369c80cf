using System.Globalization;
using System.Text;
using Coordination.Benchmarks.Locks;
using ScottPlot;

namespace Coordination.Benchmarks.Plots;

/// <summary>
/// Turns a <c>locks --out results.json</c> run into <c>docs/benchmarks.md</c> (every table, the machine, how to
/// reproduce) and its plots: the CDF of uncontended acquire+release latency per implementation, and throughput against
/// concurrency (distinct keys; one contended key). Usage: <c>Coordination.Benchmarks.Plots results.json docs</c>.
/// </summary>
internal static class Program
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    // One colour per implementation across every plot; ours bold, the floor dashed.
    private static readonly Dictionary<string, Color> Colours = new()
    {
        ["floor"] = Colors.Gray,
        ["floor, one at a time"] = Colors.DarkGray,
        ["hybrid"] = Color.FromHex("#d62728"),
        ["hybrid, new key each time"] = Color.FromHex("#ff9896"),
        ["zookeeper-only"] = Color.FromHex("#1f77b4"),
        ["redis-only"] = Color.FromHex("#2ca02c"),
        ["DistributedLock.Redis"] = Color.FromHex("#9467bd"),
        ["RedLock.net"] = Color.FromHex("#8c564b"),
    };

    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: Coordination.Benchmarks.Plots <results.json> <docs directory>");
            return 2;
        }

        var results = await BenchResults.ReadAsync(args[0]);
        var docs = args[1];
        var images = Path.Combine(docs, "benchmarks");
        Directory.CreateDirectory(images);
        var plots = new List<(string File, string Caption)>();
        if (results.Latency.Count > 0)
        {
            LatencyCdf(results, Path.Combine(images, "latency-cdf.png"));
            plots.Add(("benchmarks/latency-cdf.png", "Uncontended acquire+release latency, CDF per implementation (log scale)"));
        }

        if (results.ManyKeys.Count > 0)
        {
            Throughput(results.ManyKeys, "Distinct keys: acquire+release per second", "concurrent callers in one process (each on its own key)", Path.Combine(images, "throughput-many-keys.png"), Alignment.UpperLeft);
            plots.Add(("benchmarks/throughput-many-keys.png", "Throughput against concurrency, each caller on its own key"));
        }

        if (results.Contended.Count > 0)
        {
            Throughput(results.Contended, "One key: grants per second", "contenders (OS processes × tasks) on one key", Path.Combine(images, "throughput-contended.png"), Alignment.LowerLeft);
            plots.Add(("benchmarks/throughput-contended.png", "Throughput against concurrency, every contender on one key"));
        }

        var md = Path.Combine(docs, "benchmarks.md");
        await File.WriteAllTextAsync(md, Report(results, plots));
        Console.WriteLine($"wrote {md} and {plots.Count} plots under {images}");
        return 0;
    }

    private static void LatencyCdf(BenchResults results, string file)
    {
        var plot = new Plot();
        foreach (var (name, sorted) in results.Latency)
        {
            if (sorted.Length == 0)
            {
                continue;
            }

            // Up to 400 points per curve: x = log10(latency), y = the share of samples at or below it.
            var step = Math.Max(1, sorted.Length / 400);
            var xs = new List<double>();
            var ys = new List<double>();
            for (var i = 0; i < sorted.Length; i += step)
            {
                xs.Add(Math.Log10(Math.Max(sorted[i], 0.001)));
                ys.Add((i + 1) * 100.0 / sorted.Length);
            }

            xs.Add(Math.Log10(Math.Max(sorted[^1], 0.001)));
            ys.Add(100);
            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
            Style(line, name);
        }

        LogAxis(plot.Axes.Bottom, "ms");
        plot.Title("Uncontended acquire+release latency (CDF)");
        plot.XLabel("acquire + release, ms (log scale)");
        plot.YLabel("% of acquisitions at or below");
        plot.Axes.SetLimitsY(0, 100);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(file, 1000, 600);
    }

    private static void Throughput(Dictionary<string, List<double[]>> series, string title, string xLabel, string file, Alignment legend)
    {
        var plot = new Plot();
        foreach (var (name, points) in series)
        {
            var line = plot.Add.Scatter(points.Select(p => Math.Log2(p[0])).ToArray(), points.Select(p => Math.Log10(Math.Max(p[1], 0.1))).ToArray());
            Style(line, name);
            line.MarkerSize = 7;
        }

        var ticks = series.Values.SelectMany(p => p).Select(p => p[0]).Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(ticks.Select(Math.Log2).ToArray(), ticks.Select(t => t.ToString("0", Inv)).ToArray());
        LogAxis(plot.Axes.Left, "");
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel("per second (log scale)");
        plot.ShowLegend(legend);
        plot.SavePng(file, 1000, 600);
    }

    private static void Style(ScottPlot.Plottables.Scatter line, string name)
    {
        line.LegendText = name;
        line.Color = Colours.TryGetValue(name, out var c) ? c : Colors.Black;
        line.LineWidth = name.StartsWith("hybrid", StringComparison.Ordinal) ? 3 : 1.5f;
        line.LinePattern = name.StartsWith("floor", StringComparison.Ordinal) ? LinePattern.Dashed : LinePattern.Solid;
        line.MarkerSize = 0;
    }

    /// <summary>An axis whose data are log10 values, labelled with the values at each power of ten (1-2-5 between).</summary>
    private static void LogAxis(ScottPlot.IAxis axis, string unit)
    {
        var positions = new List<double>();
        var labels = new List<string>();
        for (var e = -3; e <= 6; e++)
        {
            foreach (var m in new[] { 1, 2, 5 })
            {
                var v = m * Math.Pow(10, e);
                positions.Add(Math.Log10(v));
                labels.Add(v.ToString(v < 1 ? "0.###" : "#,0", Inv) + (unit.Length > 0 && m == 1 && e == 0 ? " " + unit : ""));
            }
        }

        axis.SetTicks(positions.ToArray(), labels.ToArray());
    }

    private static string Report(BenchResults results, List<(string File, string Caption)> plots)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Lock benchmarks").AppendLine()
            .AppendLine("Written by `eng/bench.sh` (the `locks` mode of `benchmarks/Coordination.Benchmarks`, then `benchmarks/Coordination.Benchmarks.Plots`); do not edit by hand, run it again. The README summarises these figures and explains the protocol's choices.")
            .AppendLine()
            .AppendLine("## Machine and run").AppendLine()
            .AppendLine("| | |").AppendLine("| --- | --- |");
        foreach (var (k, v) in results.Machine)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {k} | {v} |");
        }

        sb.AppendLine()
            .AppendLine("Every implementation runs against the same servers (started by `eng/servers.sh`: Redis without persistence, ZooKeeper standalone with `forceSync=no`, on loopback) in one process (or, where named, in several OS processes), interleaved so the machine's load hits each alike. Judge by the ratios within one table; absolute figures move with the load above.")
            .AppendLine();
        foreach (var (file, caption) in plots)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"![{caption}]({file})").AppendLine();
        }

        foreach (var table in results.Tables)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"## {table.Title}").AppendLine().Append(table.ToMarkdown()).AppendLine();
        }

        sb.AppendLine("## Reproduce").AppendLine()
            .AppendLine("```bash")
            .AppendLine("eng/bench.sh                      # servers, every suite, this file and its plots (about 10 minutes)")
            .AppendLine("eng/bench.sh --only uncontended --merge   # one suite again, replacing its tables (see `dotnet run -c Release -- help` in benchmarks/Coordination.Benchmarks)")
            .AppendLine("```");
        return sb.ToString();
    }
}

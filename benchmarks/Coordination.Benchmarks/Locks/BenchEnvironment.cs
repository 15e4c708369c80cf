using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>The machine, the servers and small measuring helpers of the lock suites.</summary>
internal static class BenchEnvironment
{
    /// <summary>The machine, the versions and the load, as the README states them.</summary>
    public static async Task<Dictionary<string, string>> DescribeMachineAsync(string redis, string zk)
    {
        var machine = new Dictionary<string, string>
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["cpu"] = CpuModel(),
            ["os"] = RuntimeInformation.OSDescription,
            [".NET"] = RuntimeInformation.FrameworkDescription,
            ["load average at start"] = LoadAverage(),
        };
        try
        {
            await using var mux = await ConnectionMultiplexer.ConnectAsync(redis);
            machine["Redis"] = mux.GetServers()[0].Version.ToString();
        }
        catch (RedisException ex)
        {
            machine["Redis"] = "unknown (" + ex.Message + ")";
        }

        var srvr = await FourLetterWordAsync(zk, "srvr");
        machine["ZooKeeper"] = srvr.Split('\n').FirstOrDefault(l => l.StartsWith("Zookeeper version:", StringComparison.Ordinal))?["Zookeeper version:".Length..].Split(',')[0].Trim() ?? "unknown";
        machine["ZooKeeper mode"] = srvr.Split('\n').FirstOrDefault(l => l.StartsWith("Mode:", StringComparison.Ordinal))?[5..].Trim() ?? "unknown";
        return machine;
    }

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), e.g. "5.12 7.80 9.01".</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>A ZooKeeper four-letter word (the servers started by eng/servers.sh allow them all).</summary>
    public static async Task<string> FourLetterWordAsync(string zk, string word)
    {
        var server = zk.Split('/')[0].Split(',')[0];
        var colon = server.LastIndexOf(':');
        using var client = new TcpClient();
        await client.ConnectAsync(server[..colon], int.Parse(server[(colon + 1)..], CultureInfo.InvariantCulture));
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(word));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync();
    }

    /// <summary>The number of watches the server holds (<c>wchs</c>: "Total watches:N").</summary>
    public static async Task<long> ServerWatchesAsync(string zk)
    {
        var wchs = await FourLetterWordAsync(zk, "wchs");
        var at = wchs.IndexOf("Total watches:", StringComparison.Ordinal);
        return at < 0 ? -1 : long.Parse(wchs.AsSpan(at + 14).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Requests the ZooKeeper server has received (<c>mntr</c>: zk_packets_received), pings and handshakes included.</summary>
    public static async Task<long> ServerZooKeeperRequestsAsync(string zk)
    {
        var line = (await FourLetterWordAsync(zk, "mntr")).Split('\n').FirstOrDefault(l => l.StartsWith("zk_packets_received", StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line.Split('\t')[1].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Commands the Redis server has processed (<c>INFO stats</c>: total_commands_processed).</summary>
    public static async Task<long> ServerRedisCommandsAsync(IServer server)
    {
        foreach (var group in await server.InfoAsync("stats"))
        {
            foreach (var (name, value) in group)
            {
                if (name == "total_commands_processed")
                {
                    return long.Parse(value, CultureInfo.InvariantCulture);
                }
            }
        }

        return -1;
    }

    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

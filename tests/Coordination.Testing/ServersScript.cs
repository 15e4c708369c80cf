using System.Diagnostics;
using System.Globalization;

namespace Coordination.Testing;

/// <summary>
/// Runs <c>eng/servers.sh</c> with the state directory and ports the servers were started with, whatever this
/// process's environment says, so a verb acts on the servers the tests use.
/// </summary>
internal static class ServersScript
{
    /// <summary>How long one run may take before it counts as failed.</summary>
    public static readonly TimeSpan ScriptTimeout = ServerFaults.ScriptTimeout;

    /// <summary>Runs <c>eng/servers.sh args</c> against <paramref name="servers"/> and returns its standard output.</summary>
    /// <exception cref="InvalidOperationException">The script failed; the message holds its output.</exception>
    /// <exception cref="TimeoutException">It did not finish within <see cref="ScriptTimeout"/>.</exception>
    public static async Task<string> RunAsync(TestServers servers, string serversDirectory, CancellationToken cancellationToken, params string[] args)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ScriptPath(servers));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The script must act on the servers the tests use, whatever this process's environment says.
        start.Environment["COORD_SERVERS_DIR"] = serversDirectory;
        start.Environment["COORD_REDIS_PORT"] = servers.RedisPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["COORD_ZK_PORT"] = servers.ZooKeeperPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["COORD_ZK_ENSEMBLE_PORTS"] = string.Join(',', servers.EnsemblePorts);
        if (servers.HasSentinel)
        {
            start.Environment["COORD_SENTINEL_PORT"] = servers.SentinelPort.ToString(CultureInfo.InvariantCulture);
            start.Environment["COORD_SENTINEL_MASTER_PORT"] = servers.SentinelNodePorts[0].ToString(CultureInfo.InvariantCulture);
            start.Environment["COORD_SENTINEL_REPLICA_PORT"] = servers.SentinelNodePorts[1].ToString(CultureInfo.InvariantCulture);
        }

        if (servers.HasRedisCluster)
        {
            start.Environment["COORD_CLUSTER_PORTS"] = string.Join(',', servers.RedisClusterPorts);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start bash.");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"eng/servers.sh {string.Join(' ', args)} did not finish within {ScriptTimeout.TotalSeconds:0} s.");
        }

        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"eng/servers.sh {string.Join(' ', args)} failed (exit {process.ExitCode}): {(output + await stderr).Trim()}");
        }

        return output;
    }

    /// <summary>Runs <c>eng/servers.sh args</c> in the state directory the endpoints came from.</summary>
    /// <exception cref="InvalidOperationException">The state directory is unknown, or the script failed.</exception>
    public static Task<string> RunAsync(TestServers servers, CancellationToken cancellationToken, params string[] args) =>
        RunAsync(
            servers,
            servers.ServersDirectory ?? throw new InvalidOperationException($"The servers' state directory is unknown (endpoints from {servers.Source}); set COORD_SERVERS_DIR."),
            cancellationToken,
            args);

    private static string ScriptPath(TestServers servers)
    {
        const string relative = "eng/servers.sh";
        var candidates = new List<string?> { Environment.GetEnvironmentVariable("COORD_REPO_ROOT") };
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, relative)))
            {
                candidates.Add(dir.FullName);
                break;
            }
        }

        candidates.Add(servers.RepoRoot);
        foreach (var root in candidates)
        {
            if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, relative)))
            {
                return Path.Combine(root, relative);
            }
        }

        throw new InvalidOperationException($"Cannot find {relative}: set COORD_REPO_ROOT to the repository root.");
    }
}

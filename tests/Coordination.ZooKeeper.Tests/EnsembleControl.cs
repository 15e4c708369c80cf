using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Coordination.ZooKeeper.Tests;

/// <summary>
/// Stops and restarts members of the test ensemble. Member n (0-based) is the n-th entry of COORD_ZK_ENSEMBLE;
/// its process is the java process whose command line names the n-th zoo.cfg of COORD_ZK_ENSEMBLE_CONFIGS.
/// A stop is a crash (SIGKILL); a start re-runs the same command line, working directory and environment.
/// </summary>
/// <remarks>Temporary: to be replaced by the foundation's ServerFaults (StopEnsembleMemberAsync/StartEnsembleMemberAsync).</remarks>
internal static class EnsembleControl
{
    private static readonly Dictionary<int, (string[] Args, string Cwd, Dictionary<string, string> Env)> Stopped = [];

    public static IReadOnlyList<string> Members => ZkEnv.Ensemble.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static IReadOnlyList<string> Configs
    {
        get
        {
            var configs = ZkEnv.Get("COORD_ZK_ENSEMBLE_CONFIGS").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return configs.Length == Members.Count
                ? configs
                : throw new InvalidOperationException($"COORD_ZK_ENSEMBLE_CONFIGS has {configs.Length} entries but COORD_ZK_ENSEMBLE has {Members.Count}.");
        }
    }

    /// <summary>The member index of <paramref name="server"/> (<c>host:port</c>, e.g. <see cref="ZooKeeperClient.ConnectedServer"/>).</summary>
    public static int IndexOf(string server)
    {
        var members = Members;
        for (var i = 0; i < members.Count; i++)
        {
            if (string.Equals(members[i], server, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new ArgumentException($"'{server}' is not a member of the test ensemble ({ZkEnv.Ensemble}).", nameof(server));
    }

    /// <summary>Kills member <paramref name="n"/> and waits until its process is gone.</summary>
    public static async Task StopMemberAsync(int n)
    {
        var cfg = Configs[n];
        var pid = FindPid(cfg) ?? throw new InvalidOperationException($"No process runs ZooKeeper member {n} ({cfg}).");
        var args = ReadNulSeparated($"/proc/{pid}/cmdline");
        var cwd = new DirectoryInfo($"/proc/{pid}/cwd").LinkTarget ?? "/";
        var env = ReadNulSeparated($"/proc/{pid}/environ")
            .Select(e => e.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
        lock (Stopped)
        {
            Stopped[n] = (args, cwd, env);
        }

        using (var p = Process.GetProcessById(pid))
        {
            p.Kill();
        }

        await ZkEnv.UntilAsync(() => !Directory.Exists($"/proc/{pid}"), $"member {n} (pid {pid}) exits");
    }

    /// <summary>Restarts member <paramref name="n"/> if this class stopped it, and waits until it serves clients.</summary>
    public static async Task StartMemberAsync(int n)
    {
        (string[] Args, string Cwd, Dictionary<string, string> Env) how;
        lock (Stopped)
        {
            if (!Stopped.Remove(n, out how))
            {
                return;
            }
        }

        // Detached (own session, output discarded) so it outlives the test host and holds none of its pipes.
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = how.Cwd,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("setsid \"$@\" </dev/null >/dev/null 2>&1 &");
        psi.ArgumentList.Add("sh");
        foreach (var a in how.Args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Clear();
        foreach (var (k, v) in how.Env)
        {
            psi.Environment[k] = v;
        }

        using (var sh = Process.Start(psi)!)
        {
            await sh.WaitForExitAsync();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await ModeAsync(n) is not ("leader" or "follower"))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Ensemble member {n} ({Members[n]}) did not serve again within 60 s of its restart.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The member's role from the <c>srvr</c> four-letter word ("leader", "follower", "standalone"), or null when it does not serve.</summary>
    public static async Task<string?> ModeAsync(int n)
    {
        var (host, port) = Split(Members[n]);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(host, port, cts.Token);
            await socket.SendAsync("srvr"u8.ToArray(), SocketFlags.None, cts.Token);
            var text = new StringBuilder();
            var buffer = new byte[4096];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var line = text.ToString().Split('\n').FirstOrDefault(l => l.StartsWith("Mode: ", StringComparison.Ordinal));
            return line?["Mode: ".Length..].Trim();
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    public static (string Host, int Port) Split(string server)
    {
        var colon = server.LastIndexOf(':');
        return (server[..colon], int.Parse(server[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static int? FindPid(string cfg)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (ReadNulSeparated(Path.Combine(dir, "cmdline")).Contains(cfg, StringComparer.Ordinal))
                {
                    return pid;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // the process exited meanwhile, or is not ours
            }
        }

        return null;
    }

    private static string[] ReadNulSeparated(string file) => File.ReadAllText(file).Split('\0', StringSplitOptions.RemoveEmptyEntries);
}

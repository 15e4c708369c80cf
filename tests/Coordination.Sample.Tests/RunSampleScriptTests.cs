using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Coordination.Testing;

namespace Coordination.Sample.Tests;

/// <summary>eng/run-sample.sh, the README's run command, against the servers that are already running.</summary>
[Collection(SampleCollection.Name)]
public sealed class RunSampleScriptTests
{
    private static string RepoRoot =>
        typeof(RunSampleScriptTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    [Fact]
    public async Task RunSample_WithABadPort_FailsNamingIt()
    {
        var (exitCode, output) = await RunToEndAsync(["--port", "http"]);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("port 'http' is not a port number", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunSample_WithServersRunning_ServesThenOnCtrlCStopsTheAppButLeavesTheServersRunning()
    {
        var servers = TestServers.Current;
        Assert.True(servers.ServersDirectory is not null, $"the servers' state directory is unknown ({servers.Source}); run the tests through eng/test.sh or with COORD_SERVERS_DIR");
        var port = FreePort();
        var output = new StringBuilder();
        var info = Script(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        info.Environment["COORD_SERVERS_DIR"] = servers.ServersDirectory;
        // Its own name space, so this instance does not join a sample someone runs by hand on the same servers.
        var ns = TestNamespace.Create();
        info.Environment["Coordination__RedisPrefix"] = ns.KeyPrefix;
        info.Environment["Coordination__ZooKeeperRoot"] = $"/sample-tests/{ns.Id}/coordination";
        info.Environment["Sample__ConfigPath"] = $"/sample-tests/{ns.Id}/config/webapp";
        info.Environment["Sample__HangfirePrefix"] = ns.KeyPrefix + "hangfire:";

        using var script = Start(info, output);
        try
        {
            await Poll.UntilAsync(() => Read(output).Contains($"sample running on http://127.0.0.1:{port}", StringComparison.Ordinal) || script.HasExited, TimeSpan.FromMinutes(5), "the run banner");
            Assert.False(script.HasExited, $"eng/run-sample.sh exited early:\n{Read(output)}");

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            var page = await client.GetStringAsync(new Uri("/", UriKind.Relative));
            Assert.Contains("/coordination", page, StringComparison.Ordinal);
            using var health = await client.GetAsync(new Uri("health", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            // Ctrl+C: the terminal sends SIGINT to the script's process group.
            await RunAsync("kill", ["-INT", "--", "-" + script.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await script.WaitForExitAsync(cts.Token);
            Assert.Equal(130, script.ExitCode);
            Assert.Contains("leaving the servers running", Read(output), StringComparison.Ordinal);
            Assert.False(Listening(port), $"the app still listens on {port} after Ctrl+C");
            var (statusCode, status) = await RunToEndAsync([], Path.Combine(RepoRoot, "eng", "servers.sh"), "status", servers.ServersDirectory!);
            Assert.True(statusCode == 0, $"servers not all running after the script stopped:\n{status}");
        }
        finally
        {
            if (!script.HasExited)
            {
                await RunAsync("kill", ["-TERM", "--", "-" + script.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await script.WaitForExitAsync();
            }
        }
    }

    private static ProcessStartInfo Script(IEnumerable<string> arguments, string? program = null)
    {
        // setsid: the script leads its own process group, like a command in a terminal. A shell cannot trap a signal
        // that was ignored when it started, and the test runner may have been started with SIGINT ignored (e.g. in the
        // background), so a tiny exec wrapper restores SIGINT's default first, as a terminal would have it.
        var info = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoRoot };
        info.ArgumentList.Add("/usr/bin/python3");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])");
        info.ArgumentList.Add(program ?? Path.Combine(RepoRoot, "eng", "run-sample.sh"));
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        return info;
    }

    private static Process Start(ProcessStartInfo info, StringBuilder output)
    {
        var process = Process.Start(info)!;
        void Append(object? sender, DataReceivedEventArgs e)
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        }

        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<(int ExitCode, string Output)> RunToEndAsync(IEnumerable<string> arguments, string? program = null, string? verb = null, string? serversDir = null)
    {
        var info = Script(verb is null ? arguments : [verb, .. arguments], program);
        if (serversDir is not null)
        {
            info.Environment["COORD_SERVERS_DIR"] = serversDir;
        }

        var output = new StringBuilder();
        using var process = Start(info, output);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, Read(output));
    }

    private static async Task RunAsync(string program, IEnumerable<string> arguments)
    {
        using var process = Process.Start(program, arguments);
        await process.WaitForExitAsync();
    }

    private static string Read(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

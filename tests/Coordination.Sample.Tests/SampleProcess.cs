using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace Coordination.Sample.Tests;

/// <summary>One samples/WebApp instance running as a real process (<c>dotnet WebApp.dll --urls ...</c>).</summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SampleProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>Where the instance listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The instance name the sample puts in responses (<c>machine:port</c>).</summary>
    public string Name => Environment.MachineName + ":" + BaseAddress.Port;

    /// <summary>A client for this instance.</summary>
    public HttpClient Client { get; }

    /// <summary>What the process printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The built sample, next to which appsettings.json and wwwroot are copied.</summary>
    public static string AssemblyPath =>
        typeof(SampleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SampleAssembly").Value!;

    /// <summary>Starts an instance on a free port with <paramref name="environment"/> and waits until /health answers 200.</summary>
    public static async Task<SampleProcess> StartAsync(IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        if (!File.Exists(AssemblyPath))
        {
            throw new InvalidOperationException($"The sample is not built at {AssemblyPath}; build tests/Coordination.Sample.Tests (it builds samples/WebApp).");
        }

        var baseAddress = new Uri($"http://127.0.0.1:{FreePort()}/");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(AssemblyPath);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(baseAddress.ToString().TrimEnd('/'));
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var sample = new SampleProcess(process, baseAddress);
        process.OutputDataReceived += (_, e) => sample.Append(e.Data);
        process.ErrorDataReceived += (_, e) => sample.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The sample exited with code {process.ExitCode} while starting:\n{sample.Output}");
            }

            try
            {
                using var response = await sample.Client.GetAsync(new Uri("health", UriKind.Relative)).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return sample;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow > deadline)
            {
                await sample.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"The sample at {baseAddress} did not report healthy within {timeout}:\n{sample.Output}");
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the instance: SIGTERM (graceful: deregisters, releases), then kill after 15 s.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            // SIGTERM lets the host stop gracefully (deregister, release locks); .NET has no managed way to send it.
            try
            {
                using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await term.WaitForExitAsync().ConfigureAwait(false);
            }
            catch (System.ComponentModel.Win32Exception)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

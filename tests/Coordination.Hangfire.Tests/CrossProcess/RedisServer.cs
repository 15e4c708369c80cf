using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Coordination.Hangfire.Tests.CrossProcess;

/// <summary>
/// A Redis server for the cross-process tests: the one named by COORDINATION_TEST_REDIS, or a private
/// <c>redis-server</c> started on a free port (no persistence) and stopped when the tests end.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly Process? _process;

    public RedisServer()
    {
        var configured = Environment.GetEnvironmentVariable("COORDINATION_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            Endpoint = configured;
        }
        else
        {
            var port = FreePort();
            _process = Process.Start(new ProcessStartInfo("redis-server", $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            }) ?? throw new InvalidOperationException("could not start redis-server");
            _process.OutputDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            Endpoint = $"127.0.0.1:{port}";
        }

        Connection = Connect(Endpoint);
    }

    public string Endpoint { get; }

    public ConnectionMultiplexer Connection { get; }

    public void Dispose()
    {
        Connection.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
    }

    private static ConnectionMultiplexer Connect(string endpoint)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                return ConnectionMultiplexer.Connect(endpoint + ",abortConnect=true,connectTimeout=1000");
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50); // the server is starting
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.Tests;

/// <summary>Endpoints of the shared test servers (eng/servers.sh) and helpers to build isolated providers.</summary>
internal static class TestEnv
{
    // Bookkeeping only (counters, records): generous timeouts, since fault tests load the 2-core machine hard.
    private static readonly Lazy<ConnectionMultiplexer> SharedRedis = new(() => ConnectionMultiplexer.Connect(Redis + ",allowAdmin=true,syncTimeout=15000,asyncTimeout=15000"));

    // The same for the Redis Cluster (a cluster-aware multiplexer follows MOVED and failovers).
    private static readonly Lazy<ConnectionMultiplexer> SharedCluster = new(() => ConnectionMultiplexer.Connect(RedisCluster + ",allowAdmin=true,syncTimeout=15000,asyncTimeout=15000"));

    public static string Redis => Coordination.Testing.TestServers.Current.Redis;

    public static string RedisCluster => Coordination.Testing.TestServers.Current.RedisCluster;

    public static ConnectionMultiplexer Cluster => SharedCluster.Value;

    public static IDatabase ClusterDb => SharedCluster.Value.GetDatabase();

    public static string ZooKeeper => Coordination.Testing.TestServers.Current.ZooKeeper;

    public static string Ensemble => Coordination.Testing.TestServers.Current.ZooKeeperEnsemble;

    public static IDatabase RedisDb => SharedRedis.Value.GetDatabase();




    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>One isolated "process" worth of Coordination: its own container, connections and session.</summary>
public sealed class LockNode : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public LockNode(LockMode mode, string prefix, string root, Action<HybridCoordinationOptions>? configure = null, CapturingLoggerProvider? logs = null)
    {
        var services = new ServiceCollection();
        if (logs is not null)
        {
            services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(logs);
        }

        services.AddHybridCoordination(o =>
        {
            o.Mode = mode;
            o.Redis = TestEnv.Redis;
            o.ZooKeeper = TestEnv.ZooKeeper;
            o.RedisPrefix = prefix;
            o.ZooKeeperRoot = root;
            o.SessionTimeout = TimeSpan.FromSeconds(4);
            o.ConnectTimeout = TimeSpan.FromSeconds(2);
            configure?.Invoke(o);
        });
        _services = services.BuildServiceProvider();
        Locks = _services.GetRequiredService<IDistributedLockProvider>();
        Semaphores = _services.GetRequiredService<IDistributedSemaphoreProvider>();
        ReaderWriter = _services.GetRequiredService<IDistributedReaderWriterLockProvider>();
        Connections = _services.GetRequiredService<CoordinationConnections>();
        Status = _services.GetRequiredService<Diagnostics.CoordinationStatus>();
    }

    public IDistributedLockProvider Locks { get; }

    public IServiceProvider Services => _services;


    public IDistributedSemaphoreProvider Semaphores { get; }

    public IDistributedReaderWriterLockProvider ReaderWriter { get; }

    internal CoordinationConnections Connections { get; }

    public Diagnostics.CoordinationStatus Status { get; }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>A private redis-server for tests that stop, flush or restart Redis without disturbing others.</summary>
internal sealed class PrivateRedis : IAsyncDisposable
{
    private Process? _process;

    public PrivateRedis() => Port = TestEnv.FreePort();

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public async Task StartAsync()
    {
        _process = Process.Start(new ProcessStartInfo("redis-server", $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly no")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start");
        _ = _process.StandardOutput.ReadToEndAsync();
        await Poll.UntilAsync(async () =>
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, $"redis on {Port}");
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }

        _process = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

using System.Net;
using System.Net.Sockets;
using Coordination.Configuration;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Coordination.Tests.Configuration;

/// <summary>
/// The one place configuration tests learn their servers (COORD_REDIS, COORD_ZK) and get per-test paths, prefixes,
/// admin clients and unreachable endpoints.
/// </summary>
internal static class ConfigTestEnvironment
{
    public static string RedisEndpoint => Coordination.Testing.TestServers.Current.Redis;

    public static string ZooKeeperEndpoint => Coordination.Testing.TestServers.Current.ZooKeeper;

    /// <summary>A fresh root znode for one test.</summary>
    public static string NewRoot() => $"/cfgtest-{Guid.NewGuid():N}/config";

    /// <summary>A fresh Redis prefix for one test.</summary>
    public static string NewPrefix() => $"cfgtest-{Guid.NewGuid():N}:";

    /// <summary>A loopback endpoint where nothing listens (bound once to get a free port, then released).</summary>
    public static string ClosedEndpoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port}";
    }

    /// <summary>An independent ZooKeeper client (not the one of the source under test).</summary>
    public static Task<ZooKeeperClient> AdminAsync(string? connectionString = null) => ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
    {
        ConnectionString = connectionString ?? ZooKeeperEndpoint,
        SessionTimeout = TimeSpan.FromSeconds(4),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        OperationTimeout = TimeSpan.FromSeconds(10),
    });

    public static Task<ConnectionMultiplexer> RedisAdminAsync() => ConnectionMultiplexer.ConnectAsync(RedisEndpoint);

    /// <summary>Options for a source under test; <paramref name="zooKeeper"/>/<paramref name="redis"/> default to the test servers.</summary>
    public static Action<ZooKeeperConfigurationOptions> Options(string root, string prefix, string? zooKeeper = null, string? redis = null, Action<ZooKeeperConfigurationOptions>? more = null) => o =>
    {
        o.Path = root;
        o.RedisPrefix = prefix;
        o.ZooKeeper = zooKeeper ?? ZooKeeperEndpoint;
        o.Redis = redis ?? RedisEndpoint;
        o.SessionTimeout = TimeSpan.FromSeconds(4);
        o.ConnectTimeout = TimeSpan.FromSeconds(1);
        o.OperationTimeout = TimeSpan.FromSeconds(3);
        o.StartupTimeout = TimeSpan.FromSeconds(2);
        more?.Invoke(o);
    };

    /// <summary>Builds a configuration with one ZooKeeper source.</summary>
    public static ConfigurationRoot Build(Action<ZooKeeperConfigurationOptions> configure) =>
        (ConfigurationRoot)new ConfigurationBuilder().AddZooKeeper(configure).Build();

    public static ZooKeeperConfigurationProvider Provider(IConfigurationRoot root) => root.Providers.OfType<ZooKeeperConfigurationProvider>().Single();

    /// <summary>Every key the source of <paramref name="root"/> reports changed, in order.</summary>
    public static System.Collections.Concurrent.ConcurrentQueue<string> RecordChanges(IConfigurationRoot root)
    {
        var changes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Provider(root).Store.Changed += keys =>
        {
            foreach (var k in keys)
            {
                changes.Enqueue(k);
            }
        };
        return changes;
    }

    /// <summary>Creates <paramref name="path"/> (and its parents) with <paramref name="value"/>, or sets it.</summary>
    public static async Task PutAsync(ZooKeeperClient zk, string path, string value) => await PutAsync(zk, path, System.Text.Encoding.UTF8.GetBytes(value));

    public static async Task PutAsync(ZooKeeperClient zk, string path, byte[] value)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = string.Empty;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            current += "/" + parts[i];
            try
            {
                await zk.CreateAsync(current, ReadOnlyMemory<byte>.Empty);
            }
            catch (NodeExistsException)
            {
            }
        }

        try
        {
            await zk.SetDataAsync(path, value);
        }
        catch (NoNodeException)
        {
            await zk.CreateAsync(path, value);
        }
    }

}

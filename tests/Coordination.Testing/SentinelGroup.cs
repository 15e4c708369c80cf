using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Coordination.Testing;

/// <summary>
/// The Redis Sentinel group of <c>eng/servers.sh</c>: two data nodes (1 and 2) and one sentinel. Asks the sentinel
/// who is master, forces a failover, stops and restarts a data node, and waits until sentinel, master and replica
/// agree again. Tests using the faults belong to <see cref="SentinelCollection"/>.
/// </summary>
public sealed class SentinelGroup
{
    /// <summary>Creates the tools for the group of <paramref name="servers"/>.</summary>
    /// <exception cref="InvalidOperationException">The endpoints name no Sentinel group.</exception>
    public SentinelGroup(TestServers servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        Servers = servers;
        NodePorts = servers.SentinelNodePorts;
        _ = servers.SentinelRedis;
    }

    /// <summary>The servers acted on.</summary>
    public TestServers Servers { get; }

    /// <summary>The data nodes' ports; node n (1, 2) is at index n - 1.</summary>
    public IReadOnlyList<int> NodePorts { get; }

    /// <summary>A StackExchange.Redis configuration string that follows the master through the sentinel.</summary>
    public string ConnectionString => Servers.SentinelRedis;

    /// <summary>The data node (1, 2) listening on <paramref name="port"/>.</summary>
    public int NodeOf(int port) =>
        NodePorts.ToList().IndexOf(port) is var i and >= 0 ? i + 1 : throw new ArgumentOutOfRangeException(nameof(port), port, "Not a data node of the Sentinel group.");

    /// <summary>The master's port according to the sentinel.</summary>
    public async Task<int> GetMasterPortAsync()
    {
        await using var sentinel = await ConnectSentinelAsync();
        var master = await sentinel.GetServer(Servers.Sentinel).SentinelGetMasterAddressByNameAsync(Servers.SentinelService)
            ?? throw new InvalidOperationException($"The sentinel at {Servers.Sentinel} knows no master named '{Servers.SentinelService}'.");
        return ((IPEndPoint)master).Port;
    }

    /// <summary>
    /// Sends SENTINEL FAILOVER and returns at once, for a test that acts while the failover runs (e.g. on a replica it
    /// holds paused); <see cref="WaitHealthyAsync"/> afterwards. <see cref="FailoverAsync"/> is the complete one.
    /// </summary>
    public async Task StartFailoverAsync()
    {
        await using var sentinel = await ConnectSentinelAsync();
        await sentinel.GetServer(Servers.Sentinel).SentinelFailoverAsync(Servers.SentinelService);
    }

    /// <summary>The replica's port: the data node that is not the master.</summary>
    public async Task<int> GetReplicaPortAsync()
    {
        var master = await GetMasterPortAsync();
        return NodePorts.Single(p => p != master);
    }

    /// <summary>Forces a failover (SENTINEL FAILOVER), waits until the group is healthy again and returns the new master's port.</summary>
    public async Task<int> FailoverAsync(CancellationToken cancellationToken = default)
    {
        var output = await RunAsync(cancellationToken, "sentinel-failover");
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : throw new InvalidOperationException($"eng/servers.sh sentinel-failover printed no port: '{output.Trim()}'.");
    }

    /// <summary>Waits until the sentinel names a master, that node is master, the other replicates from it with its link up, and no failover is in progress.</summary>
    public Task WaitHealthyAsync(CancellationToken cancellationToken = default) => RunAsync(cancellationToken, "sentinel-wait");

    /// <summary>Starts whatever is not running (a no-op when all is well) and waits until the group is healthy.</summary>
    public Task EnsureHealthyAsync(CancellationToken cancellationToken = default) => RunAsync(cancellationToken, "start");

    /// <summary>Stops data node <paramref name="node"/> (1, 2), whatever its role; its data is gone (no persistence).</summary>
    public Task StopNodeAsync(int node, CancellationToken cancellationToken = default) =>
        RunAsync(cancellationToken, "stop-sentinel-redis", CheckNode(node));

    /// <summary>Starts data node <paramref name="node"/> empty, as replica of the sentinel's current master, and waits until the group is healthy.</summary>
    public Task StartNodeAsync(int node, CancellationToken cancellationToken = default) =>
        RunAsync(cancellationToken, "start-sentinel-redis", CheckNode(node));

    /// <summary>A direct connection (admin allowed) to the data node on <paramref name="port"/>, whatever its role.</summary>
    public static Task<ConnectionMultiplexer> ConnectNodeAsync(int port)
    {
        var options = new ConfigurationOptions { AllowAdmin = true, AbortOnConnectFail = true, ConnectTimeout = 3000, SyncTimeout = 5000, AsyncTimeout = 5000, ClientName = "coordination-tests" };
        options.EndPoints.Add(IPAddress.Loopback, port);
        return ConnectionMultiplexer.ConnectAsync(options);
    }

    private Task<ConnectionMultiplexer> ConnectSentinelAsync()
    {
        var options = new ConfigurationOptions { CommandMap = CommandMap.Sentinel, AbortOnConnectFail = true, ConnectTimeout = 3000, SyncTimeout = 3000, AsyncTimeout = 3000 };
        options.EndPoints.Add(Servers.Sentinel);
        return ConnectionMultiplexer.ConnectAsync(options);
    }

    private static string CheckNode(int node) =>
        node is 1 or 2 ? node.ToString(CultureInfo.InvariantCulture) : throw new ArgumentOutOfRangeException(nameof(node), node, "The Sentinel group has data nodes 1 and 2.");

    private Task<string> RunAsync(CancellationToken cancellationToken, params string[] args) => ServersScript.RunAsync(Servers, cancellationToken, args);
}

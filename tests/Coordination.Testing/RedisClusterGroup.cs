using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Coordination.Testing;

/// <summary>
/// The Redis Cluster of <c>eng/servers.sh</c> (3 masters, 3 replicas): which node serves a key, a manual failover
/// (<c>CLUSTER FAILOVER</c> on a master's replica), and a wait until every node agrees again. Tests using the
/// failover belong to <see cref="RedisClusterCollection"/>.
/// </summary>
public sealed class RedisClusterGroup
{
    /// <summary>Creates the tools for the cluster of <paramref name="servers"/>.</summary>
    /// <exception cref="InvalidOperationException">The endpoints name no Redis Cluster; the message says how to start one.</exception>
    public RedisClusterGroup(TestServers servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        Servers = servers;
        NodePorts = servers.RedisClusterPorts;
    }

    /// <summary>The servers acted on.</summary>
    public TestServers Servers { get; }

    /// <summary>Every node's port, masters and replicas.</summary>
    public IReadOnlyList<int> NodePorts { get; }

    /// <summary>A StackExchange.Redis configuration string naming every node.</summary>
    public string ConnectionString => Servers.RedisCluster;

    /// <summary>A cluster-aware connection for bookkeeping in tests (admin allowed, generous timeouts).</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() =>
        ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true,syncTimeout=15000,asyncTimeout=15000,connectTimeout=5000");

    /// <summary>The port of the master that serves <paramref name="key"/> right now, asked of the cluster itself.</summary>
    public async Task<int> GetMasterPortOfAsync(RedisKey key)
    {
        await using var redis = await ConnectAsync();
        var slot = redis.HashSlot(key);
        var any = redis.GetServer(redis.GetEndPoints()[0]);
        var nodes = await any.ClusterNodesAsync() ?? throw new InvalidOperationException("CLUSTER NODES gave no answer.");
        var master = nodes.Nodes.FirstOrDefault(n => !n.IsReplica && n.Slots.Any(r => r.From <= slot && slot <= r.To))
            ?? throw new InvalidOperationException($"No master serves slot {slot} of '{key}'.");
        return ((IPEndPoint)master.EndPoint!).Port;
    }

    /// <summary>
    /// Runs <c>CLUSTER FAILOVER</c> on the replica of the master on <paramref name="masterPort"/> (a manual failover:
    /// the replica catches up first, then takes over), waits until the cluster is healthy and returns the new master's port.
    /// </summary>
    public async Task<int> FailoverAsync(int masterPort, CancellationToken cancellationToken = default)
    {
        var output = await RunAsync(cancellationToken, "cluster-failover", masterPort.ToString(CultureInfo.InvariantCulture));
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? port
            : throw new InvalidOperationException($"eng/servers.sh cluster-failover printed no port: '{output.Trim()}'.");
    }

    /// <summary>Waits until every slot is served, there are 3 masters each with a linked replica, and every node agrees.</summary>
    public Task WaitHealthyAsync(CancellationToken cancellationToken = default) => RunAsync(cancellationToken, "cluster-wait");

    /// <summary>Starts whatever is not running (a no-op when all is well; a fresh cluster when a node was down) and waits until healthy.</summary>
    public Task EnsureHealthyAsync(CancellationToken cancellationToken = default) => RunAsync(cancellationToken, "start");

    private Task<string> RunAsync(CancellationToken cancellationToken, params string[] args) => ServersScript.RunAsync(Servers, cancellationToken, args);
}

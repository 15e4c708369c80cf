using Coordination.ZooKeeper;

namespace Coordination.Discovery.Tests;

/// <summary>
/// The one place the tests learn where the servers are (COORD_REDIS, COORD_ZK) and get per-test names,
/// polling and session expiry.
/// </summary>
internal static class DiscoveryEnv
{
    public static string Redis => Coordination.Testing.TestServers.Current.Redis;

    public static string ZooKeeper => Coordination.Testing.TestServers.Current.ZooKeeper;

    /// <summary>Session timeout of the apps under test: short, so kills and expiries show quickly.</summary>
    public static TimeSpan SessionTimeout => TimeSpan.FromSeconds(3);

    /// <summary>A fresh ZooKeeper root and Redis prefix, so tests never see each other's nodes or keys.</summary>
    public static (string Root, string Prefix) NewScope()
    {
        var id = "t" + Guid.NewGuid().ToString("N")[..10];
        return ("/" + id, id + ":");
    }

    public static void Configure(HybridCoordinationOptions o, (string Root, string Prefix) scope)
    {
        o.Redis = Redis;
        o.ZooKeeper = ZooKeeper;
        o.ZooKeeperRoot = scope.Root;
        o.RedisPrefix = scope.Prefix;
        o.SessionTimeout = SessionTimeout;
        o.ConnectTimeout = TimeSpan.FromSeconds(2);
        o.OperationTimeout = TimeSpan.FromSeconds(5);
    }

    public static Task<ZooKeeperClient> ConnectAsync() => ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
    {
        ConnectionString = ZooKeeper,
        SessionTimeout = TimeSpan.FromSeconds(4),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        OperationTimeout = TimeSpan.FromSeconds(5),
    });



    /// <summary>Expires a session on purpose (twin connection closed) until the client reports Expired or Closed.</summary>
    public static Task ExpireAsync(ZooKeeperClient client) =>
        Coordination.Testing.ZooKeeperSessionFaults.ExpireSessionAsync(client, ZooKeeper);
}

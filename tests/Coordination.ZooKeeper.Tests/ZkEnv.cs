using Coordination.Testing;
using Coordination.ZooKeeper;

namespace Coordination.ZooKeeper.Tests;

/// <summary>Endpoints of the test servers (eng/servers.sh) and per-test chroots.</summary>
internal static class ZkEnv
{
    public static string Standalone => Coordination.Testing.TestServers.Current.ZooKeeper;

    public static string Ensemble => Coordination.Testing.TestServers.Current.ZooKeeperEnsemble;

    public static string NewChroot() => TestNamespace.Create().Chroot;

    public static Task<ZooKeeperClient> ConnectAsync(string? chroot = null, bool ensemble = false, TimeSpan? sessionTimeout = null)
    {
        var cs = (ensemble ? Ensemble : Standalone) + (chroot ?? string.Empty);
        return ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = cs,
            SessionTimeout = sessionTimeout ?? TimeSpan.FromSeconds(4),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            OperationTimeout = TimeSpan.FromSeconds(10),
        });
    }


    /// <summary>Expires <paramref name="client"/>'s session on purpose.</summary>
    public static Task ExpireAsync(ZooKeeperClient client, string connectionString) =>
        Coordination.Testing.ZooKeeperSessionFaults.ExpireSessionAsync(client, connectionString);
}

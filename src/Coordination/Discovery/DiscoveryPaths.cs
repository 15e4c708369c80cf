using Coordination.ZooKeeper;

namespace Coordination.Discovery;

/// <summary>Where discovery keeps its nodes and keys.</summary>
internal static class DiscoveryPaths
{
    public static string Service(HybridCoordinationOptions options, string serviceName) =>
        (options.ZooKeeperRoot == "/" ? "" : options.ZooKeeperRoot) + "/services/" + serviceName;

    public static string RedisKey(HybridCoordinationOptions options, string serviceName) => options.RedisPrefix + "services:" + serviceName;

    /// <summary>Creates <paramref name="path"/> and its missing ancestors as persistent nodes.</summary>
    public static async Task EnsureAsync(ZooKeeperClient zk, string path, CancellationToken cancellationToken)
    {
        if (await zk.ExistsAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        for (var i = 1; i <= path.Length; i++)
        {
            if (i < path.Length && path[i] != '/')
            {
                continue;
            }

            try
            {
                await zk.CreateAsync(path[..i], ReadOnlyMemory<byte>.Empty, CreateMode.Persistent, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (NodeExistsException)
            {
            }
        }
    }
}

using System.Text;
using Coordination.ZooKeeper;
using StackExchange.Redis;

namespace Coordination.Configuration;

/// <summary>
/// Writes through ZooKeeper (create or set with an expected version; the WriterCredentials' digest ACL when configured,
/// else the session's node ACL),
/// then lets the store re-read the node and update the Redis copy if it is older, then publishes the change.
/// </summary>
internal sealed class ZooKeeperConfigurationWriter(ConfigurationStore store) : IZooKeeperConfigurationWriter
{
    private readonly object _authGate = new();
    private ZooKeeperClient? _authenticated;
    private Task? _auth;

    public string Path => store.Root;

    public async Task<ZooKeeperConfigurationEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = ConfigurationTree.PathOf(store.Root, key);
        var zk = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await zk.GetDataAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new ZooKeeperConfigurationEntry(key, Encoding.UTF8.GetString(result.Data), result.Stat.Version);
        }
        catch (NoNodeException)
        {
            return null;
        }
    }

    public async Task<int> SetAsync(string key, string value, int? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        var path = ConfigurationTree.PathOf(store.Root, key);
        ArgumentNullException.ThrowIfNull(value);
        ValidateExpected(expectedVersion);
        var data = Encoding.UTF8.GetBytes(value);
        if (data.Length > store.Options.MaxValueBytes)
        {
            throw new ArgumentException($"The value of '{key}' is {data.Length} bytes, more than MaxValueBytes ({store.Options.MaxValueBytes}).", nameof(value));
        }

        var zk = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var touched = new List<string> { path };
        int version;
        try
        {
            version = expectedVersion switch
            {
                -1 => (await CreateAsync(zk, path, data, touched, cancellationToken).ConfigureAwait(false)).Version,
                { } v => (await zk.SetDataAsync(path, data, v, cancellationToken).ConfigureAwait(false)).Version,
                null => await SetOrCreateAsync(zk, path, data, touched, cancellationToken).ConfigureAwait(false),
            };
        }
        catch (Exception ex) when (ex is BadVersionException or NodeExistsException || (ex is NoNodeException && expectedVersion >= 0))
        {
            throw new ConfigurationConflictException(key, expectedVersion!.Value, ex);
        }
        catch (NoAuthException ex)
        {
            throw Denied(key, path, ex);
        }

        await AfterWriteAsync(touched, cancellationToken).ConfigureAwait(false);
        return version;
    }

    public async Task<bool> DeleteAsync(string key, int? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        var path = ConfigurationTree.PathOf(store.Root, key);
        ValidateExpected(expectedVersion);
        if (expectedVersion == -1)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedVersion), expectedVersion, "Delete takes null (any version) or the node's version (>= 0), not -1.");
        }

        var zk = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await zk.DeleteAsync(path, expectedVersion ?? -1, cancellationToken).ConfigureAwait(false);
        }
        catch (NoNodeException) when (expectedVersion is null)
        {
            return false;
        }
        catch (Exception ex) when (ex is BadVersionException or NoNodeException)
        {
            throw new ConfigurationConflictException(key, expectedVersion!.Value, ex);
        }
        catch (NotEmptyException ex)
        {
            throw new InvalidOperationException($"Configuration key '{key}' ({path}) has child keys; delete them first.", ex);
        }
        catch (NoAuthException ex)
        {
            throw Denied(key, path, ex);
        }

        await AfterWriteAsync([path], cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static void ValidateExpected(int? expectedVersion)
    {
        if (expectedVersion is < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedVersion), expectedVersion, "The expected version must be null (any), -1 (must not exist) or the node's version (>= 0).");
        }
    }

    private static UnauthorizedAccessException Denied(string key, string path, NoAuthException ex) =>
        new($"Writing configuration key '{key}' ({path}) was denied by the node's ZooKeeper ACL; configure WriterCredentials of an identity allowed to write.", ex);

    private async Task<int> SetOrCreateAsync(ZooKeeperClient zk, string path, byte[] data, List<string> touched, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return (await zk.SetDataAsync(path, data, -1, ct).ConfigureAwait(false)).Version;
            }
            catch (NoNodeException)
            {
            }

            try
            {
                return (await CreateAsync(zk, path, data, touched, ct).ConfigureAwait(false)).Version;
            }
            catch (NodeExistsException)
            {
                // created by another writer meanwhile: set it
            }
        }
    }

    private async Task<ZooKeeperStat> CreateAsync(ZooKeeperClient zk, string path, byte[] data, List<string> touched, CancellationToken ct)
    {
        var acl = Acl();
        try
        {
            return (await zk.CreateAsync(path, data, CreateMode.Persistent, acl, cancellationToken: ct).ConfigureAwait(false)).Stat;
        }
        catch (NoNodeException)
        {
        }

        // Create the missing parents (empty data: they only group keys), then the node.
        touched.AddRange(await zk.EnsurePathAsync(ZooKeeperPath.GetParent(path), acl, ct).ConfigureAwait(false));
        return (await zk.CreateAsync(path, data, CreateMode.Persistent, acl, cancellationToken: ct).ConfigureAwait(false)).Stat;
    }

    private IReadOnlyList<ZooKeeperAcl>? Acl()
    {
        if (store.Options.WriterCredentials is not { } credentials)
        {
            return null; // the session's node ACL (creator all, others read once it has an identity)
        }

        var colon = credentials.IndexOf(':', StringComparison.Ordinal);
        return
        [
            ZooKeeperAcl.Digest(credentials[..colon], credentials[(colon + 1)..]),
            new ZooKeeperAcl(ZooKeeperPermissions.Read, "world", "anyone"),
        ];
    }

    private async Task<ZooKeeperClient> ConnectAsync(CancellationToken ct)
    {
        var zk = await store.Connections.GetConnectedZooKeeperAsync(store.Connections.Options.OperationTimeout, ct).ConfigureAwait(false);
        if (store.Options.WriterCredentials is { } credentials)
        {
            Task auth;
            lock (_authGate)
            {
                if (!ReferenceEquals(_authenticated, zk) || _auth is null || _auth.IsFaulted || _auth.IsCanceled)
                {
                    _authenticated = zk;
                    _auth = zk.AddAuthAsync("digest", Encoding.UTF8.GetBytes(credentials), CancellationToken.None);
                }

                auth = _auth;
            }

            await auth.WaitAsync(ct).ConfigureAwait(false);
        }

        return zk;
    }

    private async Task AfterWriteAsync(IReadOnlyCollection<string> paths, CancellationToken ct)
    {
        var version = await store.ApplyWriteAsync(paths, ct).ConfigureAwait(false);
        if (store.Cache is null)
        {
            return;
        }

        try
        {
            await store.Cache.PublishAsync(version).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // ZooKeeper has the change and watchers deliver it; Redis only speeds instances up.
        }
    }
}

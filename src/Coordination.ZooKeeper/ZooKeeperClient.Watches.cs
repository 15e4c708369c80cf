using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <content>Authentication and watches: addAuth, persistent and recursive watches, removing watches.</content>
public sealed partial class ZooKeeperClient
{
    /// <summary>
    /// Adds credentials to the session (e.g. scheme <c>digest</c>, auth <c>user:password</c>); they are re-sent after every
    /// reconnect. Completes when the server has accepted them.
    /// </summary>
    public async Task AddAuthAsync(string scheme, byte[] auth, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentNullException.ThrowIfNull(auth);
        if (scheme == "digest" && !System.Text.Encoding.UTF8.GetString(auth).Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("Digest credentials must be 'user:password'.", nameof(auth));
        }

        lock (_authInfos)
        {
            _authInfos.Add((scheme, auth));
        }

        await WaitForConnectedAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var conn = _connection;
        lock (_pendingAuth)
        {
            _pendingAuth.Enqueue(waiter);
        }

        if (conn is null || !conn.TrySendRaw(AuthFrame(scheme, auth)))
        {
            // The credentials are re-sent on the next connection.
            lock (_pendingAuth)
            {
                var rest = _pendingAuth.Where(t => t != waiter).ToList();
                _pendingAuth.Clear();
                rest.ForEach(_pendingAuth.Enqueue);
            }

            return;
        }

        await waiter.Task.WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
    }

    private void FailAuthWaiters(Exception ex)
    {
        lock (_pendingAuth)
        {
            while (_pendingAuth.TryDequeue(out var w))
            {
                w.TrySetException(ex);
            }
        }
    }

    /// <summary>Adds a persistent (or persistent recursive) watch that fires for every change until removed. Needs ZooKeeper 3.6+.</summary>
    public Task AddWatchAsync(string path, ZooKeeperWatcher watcher, AddWatchMode mode = AddWatchMode.Persistent, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        ArgumentNullException.ThrowIfNull(watcher);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"Unknown watch mode {(int)mode}.");
        }

        var server = Prefix(path);
        return SendAsync(OpCode.AddWatch, path, w =>
        {
            w.WriteString(server);
            w.WriteInt((int)mode);
        }, (err, _) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            _watches.AddPersistent(path, watcher, mode);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Removes watches of <paramref name="type"/> on <paramref name="path"/>: only <paramref name="watcher"/>'s, or all when it is null.
    /// The server is told once no local watcher of that type remains.
    /// </summary>
    /// <exception cref="ZooKeeperException">With code NoWatcher when no such watch was registered.</exception>
    public async Task RemoveWatchesAsync(string path, ZooKeeperWatcher? watcher, WatcherType type, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, $"Unknown watcher type {(int)type}.");
        }

        var remaining = _watches.Remove(path, watcher, type, out var removedAny);
        if (!removedAny)
        {
            throw new ZooKeeperException(ZooKeeperErrorCode.NoWatcher, path, $"No {type} watch is registered on '{path}'.");
        }

        if (remaining)
        {
            return;
        }

        var server = Prefix(path);
        var removed = await SendRemoveWatchesAsync(path, server, type, cancellationToken).ConfigureAwait(false);
        if (!removed && type is WatcherType.Persistent or WatcherType.PersistentRecursive)
        {
            // Servers before 3.9 only know Children/Data/Any: remove everything on the path, then re-arm the
            // one-shot watches other callers still hold locally.
            await SendRemoveWatchesAsync(path, server, WatcherType.Any, cancellationToken).ConfigureAwait(false);
            if (_watches.Has(path, WatcherType.Data))
            {
                await SendAsync(OpCode.Exists, path, PathAndWatch(server, true), (_, _) => true, cancellationToken).ConfigureAwait(false);
            }

            if (_watches.Has(path, WatcherType.Children))
            {
                await SendAsync(OpCode.GetChildren2, path, PathAndWatch(server, true), (_, _) => true, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Task<bool> SendRemoveWatchesAsync(string path, string server, WatcherType type, CancellationToken cancellationToken) =>
        SendAsync(OpCode.RemoveWatches, path, w =>
        {
            w.WriteString(server);
            w.WriteInt((int)type);
        }, (err, _) => err switch
        {
            ZooKeeperErrorCode.Ok or ZooKeeperErrorCode.NoWatcher => true,
            ZooKeeperErrorCode.MarshallingError or ZooKeeperErrorCode.BadArguments when type is WatcherType.Persistent or WatcherType.PersistentRecursive => false,
            _ => throw Error(err, path),
        }, cancellationToken);
}

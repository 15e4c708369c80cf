using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <content>Authentication and watches: addAuth, persistent and recursive watches, removing watches.</content>
public sealed partial class ZooKeeperClient
{
    /// <summary>
    /// Adds credentials to the session (e.g. scheme <c>digest</c>, auth <c>user:password</c>); they are re-sent after every
    /// reconnect. Completes when the server has accepted them. Credentials needed from the first request on belong in
    /// <see cref="ZooKeeperClientOptions.AuthInfo"/>, which is sent before anything else.
    /// </summary>
    public async Task AddAuthAsync(string scheme, byte[] auth, CancellationToken cancellationToken = default)
    {
        var info = new ZooKeeperAuthInfo(scheme, auth); // validates
        var entry = new AuthEntry(info.Scheme, auth);
        lock (_authInfos)
        {
            _authInfos.Add(entry);
        }

        await WaitForConnectedAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
        lock (_authInfos)
        {
            // Not re-sent yet on this connection (it was added after the connection replayed the others): send it now.
            if (_connection is { } conn && !ReferenceEquals(entry.SentOn, conn))
            {
                Send(conn, entry);
            }
        }

        // A connection lost before the reply re-sends it, and the next connection's reply completes the wait.
        await entry.Accepted.Task.WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="entry"/> on <paramref name="conn"/> and expects its reply there (caller holds the lock).</summary>
    private static void Send(Connection conn, AuthEntry entry)
    {
        entry.SentOn = conn;
        conn.PendingAuthReplies.Enqueue(entry.Accepted);
        conn.TrySendRaw(AuthFrame(entry.Scheme, entry.Auth));
    }

    private void FailAuthWaiters(Exception ex)
    {
        lock (_authInfos)
        {
            foreach (var entry in _authInfos)
            {
                if (entry.Accepted.TrySetException(ex))
                {
                    _ = entry.Accepted.Task.Exception; // observed
                }
            }
        }
    }

    /// <summary>Credentials of the session, re-sent on every connection; <see cref="Accepted"/> completes at the first accepting reply.</summary>
    private sealed class AuthEntry(string scheme, byte[] auth)
    {
        public string Scheme { get; } = scheme;

        public byte[] Auth { get; } = auth;

        public TaskCompletionSource Accepted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Connection? SentOn { get; set; }
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

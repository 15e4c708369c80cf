using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Coordination.Diagnostics;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;

namespace Coordination.Locks;

/// <summary>
/// The ZooKeeper side of a lock: this attempt's node in the key's queue, the wait for its turn, and the node's
/// deletion. Shared by the hybrid and the ZooKeeper-only modes.
/// </summary>
/// <remarks>
/// Node layout for key K: directory <c>&lt;root&gt;/&lt;collection&gt;/&lt;encoded K&gt;</c> (a container node, removed by the
/// server once empty; collection <c>locks</c>, <c>semaphores</c> or <c>rwlocks</c>), children
/// <c>&lt;ownerId&gt;-[marker]NNNNNNNNNN</c> (ephemeral-sequential; the owner id is 32 hex digits, new per attempt; the
/// marker names the primitive, see <see cref="LockShape"/>). Who holds is the <see cref="QueueTurnRule"/>'s answer
/// (the lock: the lowest sequence); a holder's <c>czxid</c> is its fencing token.
/// <code>
/// enter:  [session] create own node (new key: multi{create dir, create node}).  ConnectionLoss => once the session
///         is back, sync + getChildren and find the node by owner id; else create again.  Giving up => janitor sweep.
/// turn:   [session] getChildren; the rule grants => granted.  Else: contended (caller gives its gate back); try-once
///         => leave; watch the predecessors the rule names (exists + watch; the lock: the predecessor only) and wait
///         for one to go, the Redis bell or a session state change.
/// leave:  delete own node (release waits ReleaseWait at most; the janitor finishes what is not answered).
/// [session]: a blip is waited out; once no server answered for ZooKeeperUnavailableAfter => TimeoutException.
/// </code>
/// </remarks>
internal sealed class ZooKeeperLockQueue(HybridCoordinationOptions options, ILogger logger) : IAsyncDisposable
{
    /// <summary>Longest a release waits for its node's delete before the janitor finishes it in the background.</summary>
    internal static readonly TimeSpan ReleaseWait = TimeSpan.FromMilliseconds(80);

    private readonly ConcurrentDictionary<string, byte> _knownDirs = new(StringComparer.Ordinal);
    private readonly string _locksRoot = options.UnderRoot("locks");

    /// <summary>Finishes deletes and sweeps whose outcome a caller did not wait for.</summary>
    public LockNodeJanitor Janitor { get; } = new(logger);

    /// <summary>The queue directory of the lock <paramref name="key"/>.</summary>
    public string DirectoryOf(string key) => _locksRoot + "/" + Keys.LockKey.ToNodeName(key);

    /// <summary>The queue directory of <paramref name="key"/> for <paramref name="shape"/> (each primitive has its own collection).</summary>
    public string DirectoryOf(string key, LockShape shape) =>
        shape.Kind == LockKind.Mutex ? DirectoryOf(key) : options.UnderRoot(shape.Collection) + "/" + Keys.LockKey.ToNodeName(key);

    /// <summary>
    /// Returns once <paramref name="zk"/> is connected. A blip (a leader failover) is waited out; once no server has
    /// answered for <see cref="HybridCoordinationOptions.ZooKeeperUnavailableAfter"/> and an attempt to reach one has
    /// failed, ZooKeeper counts as gone and this throws at once (fail closed, fast). The first connection of a new
    /// session gets <see cref="HybridCoordinationOptions.ConnectTimeout"/>.
    /// </summary>
    /// <exception cref="TimeoutException">ZooKeeper is gone: no server answered within the bound.</exception>
    public async ValueTask AwaitSessionAsync(ZooKeeperClient zk, CancellationToken ct)
    {
        var state = zk.State;
        if (state == ZooKeeperState.Connected)
        {
            return;
        }

        if (state == ZooKeeperState.Connecting)
        {
            await zk.WaitForConnectedAsync(options.ConnectTimeout, ct).ConfigureAwait(false);
            return;
        }

        try
        {
            await zk.WaitForSessionAsync(options.ZooKeeperUnavailableAfter, options.OperationTimeout, ct).ConfigureAwait(false);
        }
        catch (ConnectionLossException ex)
        {
            throw new TimeoutException(ex.Message, ex);
        }
    }

    /// <summary>
    /// Creates this attempt's node (with the key's container directory when the key is new). A create whose reply
    /// is lost may have been applied: the node is looked up by owner id once the session is back (within the
    /// fail-fast bound) and, when the attempt gives up instead, the janitor sweeps it in the background, so an
    /// orphan never stays at the head of the queue for the rest of the session. <paramref name="data"/> is the node's
    /// content (empty for locks; an election candidate's description for elections).
    /// </summary>
    public async Task<ZooKeeperCreateResult> EnterAsync(ZooKeeperClient zk, string dir, string ownerId, CancellationToken ct, string marker = "", ReadOnlyMemory<byte> data = default)
    {
        try
        {
            return await CreateOrFindOwnNodeAsync(zk, dir, ownerId, marker, data, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not NoAuthException)
        {
            Janitor.Sweep(zk, dir, ownerId);
            throw;
        }
    }

    private async Task<ZooKeeperCreateResult> CreateOrFindOwnNodeAsync(ZooKeeperClient zk, string dir, string ownerId, string marker, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var prefix = dir + "/" + ownerId + "-" + marker;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                CoordinationDiagnostics.ZooKeeperWrites.Add(1);
                if (_knownDirs.ContainsKey(dir))
                {
                    return await zk.CreateAsync(prefix, data, CreateMode.EphemeralSequential, cancellationToken: ct).ConfigureAwait(false);
                }

                // A key not seen yet: create its container directory and our node in one round trip.
                var results = await zk.MultiAsync([
                    ZooKeeperOp.Create(dir, ReadOnlyMemory<byte>.Empty, CreateMode.Container),
                    ZooKeeperOp.Create(prefix, data, CreateMode.EphemeralSequential),
                ], ct).ConfigureAwait(false);
                RememberDir(dir);
                var created = results[1].Path!;
                // Servers answer a create inside a multi without its stat; the czxid (fencing token) needs one read.
                var stat = results[1].Stat ?? await zk.ExistsAsync(created, null, ct).ConfigureAwait(false)
                    ?? throw new SessionExpiredException(created, $"The lock node '{created}' vanished right after it was created.");
                return new ZooKeeperCreateResult(created, stat);
            }
            catch (NodeExistsException ex) when (ex.Path == dir && attempt < 5)
            {
                RememberDir(dir); // the directory exists: a plain create next
            }
            catch (NoNodeException) when (attempt < 5)
            {
                // The server removed the empty container since we saw it, or the root is missing.
                _knownDirs.TryRemove(dir, out _);
                await zk.EnsurePathAsync(ZooKeeperPath.GetParent(dir), cancellationToken: ct).ConfigureAwait(false);
            }
            catch (ConnectionLossException) when (attempt < 3)
            {
                // The create may have been applied: find our node by its owner id instead of creating a second one.
                await AwaitSessionAsync(zk, ct).ConfigureAwait(false);
                if (await FindOwnNodeAsync(zk, dir, ownerId, ct).ConfigureAwait(false) is { } found)
                {
                    return found;
                }
            }
        }
    }

    private static async Task<ZooKeeperCreateResult?> FindOwnNodeAsync(ZooKeeperClient zk, string dir, string ownerId, CancellationToken ct)
    {
        IReadOnlyList<string> children;
        try
        {
            // After a reconnect this server may not have seen a create sent on the old connection yet: sync first.
            await zk.SyncAsync(dir, ct).ConfigureAwait(false);
            children = (await zk.GetChildrenAsync(dir, null, ct).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return null;
        }

        var mine = children.FirstOrDefault(c => LockNodeJanitor.IsOwnedBy(c, ownerId));
        if (mine is null)
        {
            return null;
        }

        var path = dir + "/" + mine;
        return await zk.ExistsAsync(path, null, ct).ConfigureAwait(false) is { } stat ? new ZooKeeperCreateResult(path, stat) : null;
    }

    private void RememberDir(string dir)
    {
        if (_knownDirs.Count > 10_000)
        {
            _knownDirs.Clear(); // bounded; a forgotten directory only costs one multi
        }

        _knownDirs[dir] = 0;
    }

    /// <summary>
    /// Waits until <paramref name="rule"/> (default: the lock's, lowest node) grants <paramref name="node"/>. Returns <c>Granted</c> false when the caller
    /// tries once or its <paramref name="remaining"/> time runs out (the node is then left to the caller to delete),
    /// and the timestamp the wait began (0 when it never waited). Calls <paramref name="onContended"/> once the queue
    /// is found taken, and <paramref name="listen"/> to add another wake-up source (the Redis bell) while parked.
    /// </summary>
    /// <exception cref="ZooKeeperException">The session ended or the node vanished.</exception>
    /// <exception cref="TimeoutException">ZooKeeper is gone (see <see cref="AwaitSessionAsync"/>).</exception>
    public async Task<(bool Granted, long WaitedFrom)> WaitForTurnAsync(ZooKeeperClient zk, string key, ZooKeeperCreateResult node, string ownerId, TimeSpan? remaining, Func<Task> onContended, Func<Action, IDisposable?> listen, CancellationToken ct, QueueTurnRule? rule = null)
    {
        rule ??= QueueTurnRule.For(LockShape.Mutex);
        var dir = ZooKeeperPath.GetParent(node.Path);
        var ownName = ZooKeeperPath.GetName(node.Path);
        var deadline = Deadline.After(remaining);
        var waitedFrom = 0L;
        while (true)
        {
            await AwaitSessionAsync(zk, ct).ConfigureAwait(false);
            IReadOnlyList<string> children;
            try
            {
                children = (await zk.GetChildrenAsync(dir, null, ct).ConfigureAwait(false)).Children;
            }
            catch (ConnectionLossException)
            {
                continue; // the session survives a blip: wait for it (bounded) and look again
            }

            var ordered = OrderQueue(children, dir, ownName, ownerId, zk);
            var index = ordered.IndexOf(ownName);
            if (index < 0)
            {
                throw new SessionExpiredException(node.Path, $"The lock node '{node.Path}' of '{key}' vanished while waiting (session expired or node deleted).");
            }

            var decision = rule.Decide(key, ordered, index);
            if (decision.IsGranted)
            {
                return (true, waitedFrom);
            }

            if (waitedFrom == 0)
            {
                waitedFrom = Stopwatch.GetTimestamp();
                await onContended().ConfigureAwait(false);
            }

            if (remaining == TimeSpan.Zero)
            {
                return (false, waitedFrom);
            }

            var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var bell = listen(() => wake.TrySetResult());
            void OnState(object? s, ZooKeeperStateChangedEventArgs e) => wake.TrySetResult();
            zk.StateChanged += OnState;
            try
            {
                ZooKeeperStat?[] stats;
                try
                {
                    // Every watched node is armed before deciding to sleep (see QueueTurnRule: while all exist, the
                    // waiter cannot be granted); the calls are pipelined on the session.
                    stats = await Task.WhenAll(decision.Watch.Select(w => zk.ExistsAsync(dir + "/" + w, _ => wake.TrySetResult(), ct))).ConfigureAwait(false);
                }
                catch (ConnectionLossException)
                {
                    continue;
                }

                if (stats.Any(s => s is null))
                {
                    continue;
                }

                if (deadline.HasPassed)
                {
                    return (false, waitedFrom);
                }

                var left = deadline.Remaining;

                try
                {
                    await wake.Task.WaitAsync(left, ct).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    return (false, waitedFrom);
                }
            }
            finally
            {
                zk.StateChanged -= OnState;
            }

            if (zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed)
            {
                throw new SessionExpiredException(node.Path, $"The ZooKeeper session expired while waiting for '{key}'.");
            }
        }
    }

    /// <summary>
    /// The queue in sequence order. A second node of this attempt (a create retried after a lost reply whose first try
    /// was applied after all) is not a predecessor to wait for: it is removed instead.
    /// </summary>
    private List<string> OrderQueue(IReadOnlyList<string> children, string dir, string ownName, string ownerId, ZooKeeperClient zk)
    {
        var ordered = new List<string>(children.Count);
        foreach (var c in children)
        {
            if (c.Length <= 10)
            {
                continue;
            }

            if (c != ownName && LockNodeJanitor.IsOwnedBy(c, ownerId))
            {
                Janitor.Delete(zk, dir + "/" + c);
                continue;
            }

            ordered.Add(c);
        }

        ordered.Sort((a, b) => Sequence(a).CompareTo(Sequence(b)));
        return ordered;
    }

    /// <summary>The sequence number of a queue node's name (long.MaxValue for a name that has none).</summary>
    internal static long Sequence(string child) =>
        long.TryParse(child.AsSpan(child.Length - 10), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : long.MaxValue;

    /// <summary>
    /// Deletes a released node and then runs <paramref name="then"/>. Waits at most <see cref="ReleaseWait"/>: when the
    /// session is not connected or the server does not answer by then, the janitor finishes both in the background
    /// and this returns false.
    /// </summary>
    public async ValueTask<bool> LeaveAsync(ZooKeeperClient zk, string path, Action then)
    {
        if (zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed or ZooKeeperState.AuthFailed)
        {
            then(); // the ephemeral node is gone with its session
            return true;
        }

        if (zk.State == ZooKeeperState.Connected && await TryDeleteAsync(zk, path).ConfigureAwait(false))
        {
            then();
            return true;
        }

        Janitor.Delete(zk, path, () =>
        {
            then();
            return Task.CompletedTask;
        });
        return false;
    }

    /// <summary>One delete, awaited at most <see cref="ReleaseWait"/>; false when its outcome is not known by then.</summary>
    private static async ValueTask<bool> TryDeleteAsync(ZooKeeperClient zk, string path)
    {
        CoordinationDiagnostics.ZooKeeperWrites.Add(1);
        var delete = zk.DeleteAsync(path);
        try
        {
            await delete.WaitAsync(ReleaseWait).ConfigureAwait(false);
            return true;
        }
        catch (NoNodeException)
        {
            return true;
        }
        catch (Exception ex) when (ex is ZooKeeperException or TimeoutException or ObjectDisposedException)
        {
            _ = delete.Exception; // observed; the janitor deletes again (NoNode counts as done)
            return false;
        }
    }

    public ValueTask DisposeAsync() => Janitor.DisposeAsync();
}

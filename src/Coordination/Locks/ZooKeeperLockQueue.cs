using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
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
/// enter:  [session] one write, applied in order: [new key: create dir (container; NodeExists is fine)], create own
///         node (create2: czxid), getChildren (the first look: it sees the node, no second round trip).
///         ConnectionLoss => once the session is back, sync + getChildren and find the node by owner id; else create
///         again.  Giving up => janitor sweep.
/// turn:   [session] the first look, later getChildren; the rule grants => granted.  Else: contended (caller gives its gate back); try-once
///         => leave; watch the predecessors the rule names (exists + watch; the lock: the predecessor only) and wait
///         for one to go, the Redis bell or a session state change.
/// leave:  delete own node (release waits about ReleaseWait at most, on one shared clock; the janitor finishes what is
///         not answered).
/// [session]: a blip is waited out; once no server answered for ZooKeeperUnavailableAfter => TimeoutException.
/// </code>
/// </remarks>
internal sealed class ZooKeeperLockQueue(HybridCoordinationOptions options, ILogger logger) : IAsyncDisposable
{
    /// <summary>This attempt's node in queue directory <c>Dir</c>, and the queue as read right behind its create (null: not read that way).</summary>
    public readonly record struct QueueEntry(string Dir, ZooKeeperCreateResult Node, IReadOnlyList<string>? Look);

    /// <summary>Longest a release waits for its node's delete before the janitor finishes it in the background.</summary>
    internal static readonly TimeSpan ReleaseWait = TimeSpan.FromMilliseconds(80);

    private readonly ConcurrentDictionary<string, byte> _knownDirs = new(StringComparer.Ordinal);
    private readonly string _locksRoot = options.UnderRoot("locks");
    private readonly CoarseClock _releaseClock = new(ReleaseWait / 2, TimeProvider.System);

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
    /// Creates this attempt's node (with the key's container directory when the key is new) and reads the queue behind
    /// it in the same round trip: the getChildren is sent right behind the create on the session, which the server
    /// applies in order, so the reply lists the new node (<see cref="QueueEntry.Look"/>; null when it could not be read
    /// that way, and the turn reads again). A create whose reply is lost may have been applied: the node is looked up
    /// by owner id once the session is back (within the fail-fast bound) and, when the attempt gives up instead, the
    /// janitor sweeps it in the background, so an orphan never stays at the head of the queue for the rest of the
    /// session. <paramref name="data"/> is the node's content (empty for locks; an election candidate's description
    /// for elections).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<QueueEntry> EnterAsync(ZooKeeperClient zk, string dir, string ownerId, CancellationToken ct, string marker = "", ReadOnlyMemory<byte> data = default)
    {
        var prefix = string.Concat(dir, "/", ownerId, "-", marker);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var knownDir = _knownDirs.ContainsKey(dir);
                Task<ZooKeeperCreateResult>? makeDir = null;
                Task<ZooKeeperCreateResult> create;
                Task<ZooKeeperChildrenResult> look;
                using (ZooKeeperClient.BatchSends())
                {
                    // One write, applied in this order: [a key not seen yet: its container directory (NodeExists is
                    // fine)], our node (create2: its stat carries the czxid, the fencing token), the queue.
                    if (!knownDir)
                    {
                        CoordinationDiagnostics.ZooKeeperWrites.Add(1);
                        makeDir = zk.CreateAsync(dir, ReadOnlyMemory<byte>.Empty, CreateMode.Container, cancellationToken: ct);
                    }

                    CoordinationDiagnostics.ZooKeeperWrites.Add(1);
                    create = zk.CreateAsync(prefix, data, CreateMode.EphemeralSequential, cancellationToken: ct);
                    look = zk.GetChildrenAsync(dir, null, ct);
                }

                ZooKeeperCreateResult node;
                try
                {
                    node = await create.ConfigureAwait(false);
                }
                catch (NoNodeException) when (attempt < 5)
                {
                    Observe(makeDir, look);
                    // The server removed the empty container since we saw it (the next try creates it again), or the
                    // root is missing.
                    _knownDirs.TryRemove(dir, out _);
                    if (!knownDir)
                    {
                        await zk.EnsurePathAsync(ZooKeeperPath.GetParent(dir), cancellationToken: ct).ConfigureAwait(false);
                    }

                    continue;
                }
                catch (ConnectionLossException) when (attempt < 3)
                {
                    Observe(makeDir, look);
                    // The create may have been applied: find our node by its owner id instead of creating a second one.
                    await AwaitSessionAsync(zk, ct).ConfigureAwait(false);
                    if (await FindOwnNodeAsync(zk, dir, ownerId, ct).ConfigureAwait(false) is { } found)
                    {
                        return new QueueEntry(dir, found, null);
                    }

                    continue;
                }
                catch
                {
                    Observe(makeDir, look);
                    throw;
                }

                if (makeDir is not null)
                {
                    Observe(makeDir, null); // created, or it existed: either way the directory is there now
                    RememberDir(dir);
                }

                IReadOnlyList<string>? children = null;
                try
                {
                    children = (await look.ConfigureAwait(false)).Children;
                }
                catch (Exception ex) when (ex is ZooKeeperException or OperationCanceledException)
                {
                    // the turn reads on its own (and reports what is wrong with the session)
                }

                return new QueueEntry(dir, node, children);
            }
        }
        catch (Exception ex) when (ex is not NoAuthException)
        {
            Janitor.Sweep(zk, dir, ownerId);
            throw;
        }
    }

    /// <summary>Observes pipelined requests' outcomes that nobody awaits (their failure is the awaited request's too).</summary>
    private static void Observe(Task? first, Task? second)
    {
        foreach (var task in (ReadOnlySpan<Task?>)[first, second])
        {
            if (task is null)
            {
                continue;
            }

            if (task.IsCompleted)
            {
                _ = task.Exception;
                continue;
            }

            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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
    /// Waits until <paramref name="rule"/> (default: the lock's, lowest node) grants the node of <paramref name="entry"/>
    /// (its first look at the queue, when it has one, saves the first read). Returns <c>Granted</c> false when the caller
    /// tries once or its <paramref name="remaining"/> time runs out (the node is then left to the caller to delete),
    /// and the timestamp the wait began (0 when it never waited: the queue was never found taken). Calls <paramref name="listen"/> with <paramref name="bellKey"/> (default <paramref name="key"/>) to add
    /// another wake-up source (the Redis bell) while parked.
    /// </summary>
    /// <exception cref="ZooKeeperException">The session ended or the node vanished.</exception>
    /// <exception cref="TimeoutException">ZooKeeper is gone (see <see cref="AwaitSessionAsync"/>).</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(bool Granted, long WaitedFrom)> WaitForTurnAsync(ZooKeeperClient zk, string key, QueueEntry entry, string ownerId, TimeSpan? remaining, Func<string, Action<string?>, IDisposable?> listen, CancellationToken ct, QueueTurnRule? rule = null, string? bellKey = null)
    {
        rule ??= QueueTurnRule.For(LockShape.Mutex);
        var node = entry.Node;
        var dir = entry.Dir;
        var deadline = Deadline.After(remaining);
        var waitedFrom = 0L;
        var look = entry.Look;
        while (true)
        {
            IReadOnlyList<string> children;
            var firstLook = look is not null;
            if (look is not null)
            {
                children = look; // read behind the create, in its round trip
                look = null;
            }
            else
            {
                await AwaitSessionAsync(zk, ct).ConfigureAwait(false);
                try
                {
                    children = (await zk.GetChildrenAsync(dir, null, ct).ConfigureAwait(false)).Children;
                }
                catch (ConnectionLossException)
                {
                    continue; // the session survives a blip: wait for it (bounded) and look again
                }
            }

            var (ordered, index) = OrderQueue(children, dir, node.Path, ownerId, zk);
            if (index < 0)
            {
                if (firstLook)
                {
                    continue; // the read went out on another connection than the create (a reconnect between them): read again
                }

                throw new SessionExpiredException(node.Path, $"The lock node '{node.Path}' of '{key}' vanished while waiting (session expired or node deleted).");
            }

            var decision = rule.Decide(key, ordered, index);
            if (decision.IsGranted)
            {
                if (SessionSurelyAlive(zk))
                {
                    return (true, waitedFrom);
                }

                // A reply read after a long pause (its request went out before a SIGSTOP or a GC) tells how the queue
                // was then; the session may have expired since and the turn gone to another. Look again: a live
                // session answers at once and grants, an expired one fails the read.
                if (deadline.HasPassed)
                {
                    return (false, waitedFrom);
                }

                continue;
            }

            if (waitedFrom == 0)
            {
                waitedFrom = Stopwatch.GetTimestamp();
            }

            if (remaining == TimeSpan.Zero)
            {
                return (false, waitedFrom);
            }

            switch (await ParkAsync(zk, dir, decision.Watch, deadline, listen, bellKey ?? key, ct).ConfigureAwait(false))
            {
                case Parked.TimedOut:
                    return (false, waitedFrom);
                case Parked.WatchedGone when decision.GrantedWhenAnyGoes && SessionSurelyAlive(zk):
                    return (true, waitedFrom); // the hand-off: no second look needed (see TurnDecision)
                case Parked.Woken or Parked.WatchedGone when zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed:
                    throw new SessionExpiredException(node.Path, $"The ZooKeeper session expired while waiting for '{key}'.");
            }
        }
    }

    /// <summary>
    /// True while the server cannot have expired the session yet, by the loss monitor's rule: connected, and less than
    /// <see cref="LockLossMonitor.LostAfterFraction"/> of the session timeout since the sending of the newest request
    /// it answered. A deletion event or a children list read after a long pause (SIGSTOP, a GC) may predate the
    /// session's own expiry, and then the queue is read again (which finds the session gone) instead of taking the turn
    /// on old news: no caller is granted a lock already lost.
    /// </summary>
    private static bool SessionSurelyAlive(ZooKeeperClient zk) =>
        zk.State == ZooKeeperState.Connected
        && Stopwatch.GetElapsedTime(zk.LastAcknowledgedSend) < zk.NegotiatedSessionTimeout * LockLossMonitor.LostAfterFraction;

    private enum Parked
    {
        LookAgain,
        Woken,
        WatchedGone,
        TimedOut,
    }

    /// <summary>
    /// Arms a watch on each of <paramref name="watch"/> and sleeps until one is deleted (its watch event, or the Redis
    /// bell naming it: <see cref="Parked.WatchedGone"/>), the bell rings without a node, the session changes state or
    /// the deadline passes. A bell naming another node is ignored (it woke the waiters behind that node), and a watched
    /// node already gone means look again at once.
    /// </summary>
    private static async Task<Parked> ParkAsync(ZooKeeperClient zk, string dir, IReadOnlyList<string> watch, Deadline deadline, Func<string, Action<string?>, IDisposable?> listen, string bellKey, CancellationToken ct)
    {
        var wake = new TaskCompletionSource<Parked>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var bell = listen(bellKey, node =>
        {
            if (node is null)
            {
                wake.TrySetResult(Parked.Woken);
            }
            else if (watch.Contains(node, StringComparer.Ordinal))
            {
                wake.TrySetResult(Parked.WatchedGone);
            }
        });
        void OnState(object? s, ZooKeeperStateChangedEventArgs e) => wake.TrySetResult(Parked.Woken);
        zk.StateChanged += OnState;
        try
        {
            ZooKeeperStat?[] stats;
            try
            {
                // Every watched node is armed before deciding to sleep (see QueueTurnRule: while all exist, the
                // waiter cannot be granted); the calls are pipelined on the session.
                stats = await Task.WhenAll(watch.Select(w => zk.ExistsAsync(dir + "/" + w, e => wake.TrySetResult(e.Type == WatchEventType.NodeDeleted ? Parked.WatchedGone : Parked.Woken), ct))).ConfigureAwait(false);
            }
            catch (ConnectionLossException)
            {
                return Parked.LookAgain;
            }

            if (stats.Any(s => s is null))
            {
                return Parked.LookAgain;
            }

            if (deadline.HasPassed)
            {
                return Parked.TimedOut;
            }

            try
            {
                return await wake.Task.WaitAsync(deadline.Remaining, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return Parked.TimedOut;
            }
        }
        finally
        {
            zk.StateChanged -= OnState;
        }
    }

    /// <summary>
    /// The queue in sequence order and the index of <paramref name="ownPath"/>'s node in it (-1: not there). A second
    /// node of this attempt (a create retried after a lost reply whose first try was applied after all) is not a
    /// predecessor to wait for: it is removed instead. The usual answer of an uncontended key, a queue of just the own
    /// node, is returned as it came.
    /// </summary>
    private (IReadOnlyList<string> Ordered, int Index) OrderQueue(IReadOnlyList<string> children, string dir, string ownPath, string ownerId, ZooKeeperClient zk)
    {
        var own = ownPath.AsSpan(dir.Length + 1);
        if (children.Count == 1)
        {
            return (children, own.SequenceEqual(children[0]) ? 0 : -1);
        }

        var ordered = new List<string>(children.Count);
        foreach (var c in children)
        {
            if (c.Length <= 10)
            {
                continue;
            }

            if (!own.SequenceEqual(c) && LockNodeJanitor.IsOwnedBy(c, ownerId))
            {
                Janitor.Delete(zk, dir + "/" + c);
                continue;
            }

            ordered.Add(c);
        }

        ordered.Sort(static (a, b) => Sequence(a).CompareTo(Sequence(b)));
        for (var i = 0; i < ordered.Count; i++)
        {
            if (own.SequenceEqual(ordered[i]))
            {
                return (ordered, i);
            }
        }

        return (ordered, -1);
    }

    /// <summary>The sequence number of a queue node's name (long.MaxValue for a name that has none).</summary>
    internal static long Sequence(string child) =>
        long.TryParse(child.AsSpan(child.Length - 10), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : long.MaxValue;

    /// <summary>
    /// Deletes <paramref name="handle"/>'s released node and then runs <paramref name="then"/> (with true when the
    /// delete was answered now). Waits about <see cref="ReleaseWait"/> at most: when the session is not connected or the
    /// server does not answer by then, the janitor finishes both in the background (then runs with false).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask LeaveAsync(LockHandle handle, Action<LockHandle, bool>? then)
    {
        var zk = handle.Session!;
        if (zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed or ZooKeeperState.AuthFailed)
        {
            then?.Invoke(handle, true); // the ephemeral node is gone with its session
            return;
        }

        if (zk.State == ZooKeeperState.Connected)
        {
            CoordinationDiagnostics.ZooKeeperWrites.Add(1);
            var delete = zk.DeleteAsync(handle.NodePath!);
            if (!delete.IsCompleted)
            {
                await Task.WhenAny(delete, _releaseClock.Tick()).ConfigureAwait(false);
            }

            if (delete.IsCompletedSuccessfully || delete.Exception?.InnerException is NoNodeException)
            {
                then?.Invoke(handle, true);
                return;
            }

            // Not answered in time, or failed: observed; the janitor deletes again (NoNode counts as done).
            Observe(delete, null);
        }

        Janitor.Delete(zk, handle.NodePath!, then is null ? null : () =>
        {
            then(handle, false);
            return Task.CompletedTask;
        });
    }

    public ValueTask DisposeAsync() => Janitor.DisposeAsync();
}

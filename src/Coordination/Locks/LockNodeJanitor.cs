using System.Collections.Concurrent;
using Coordination.Diagnostics;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;

namespace Coordination.Locks;

/// <summary>
/// Finishes, in the background and per ZooKeeper session, lock-node work whose outcome a caller could not wait
/// for: no outcome is forgotten, and no caller waits on an outage.
/// </summary>
/// <remarks>
/// <code>
/// Work (per session, i.e. per ZooKeeperClient):
///   Delete(path)          a node this process owns must go: a release, or an abandoned wait, whose delete did not
///                         complete (server slow or unreachable).
///   Sweep(dir, ownerId)   a create whose reply was lost or abandoned: the node may exist at the head of the queue and
///                         would block the key for as long as the session lives. Delete every child named
///                         "&lt;ownerId&gt;-[marker]NNNNNNNNNN" (owner ids are per attempt, so nothing granted is ever swept).
/// Pass: runs when work is added, when a session becomes Connected, and every RetryDelay while work remains.
///   session Connected   Delete: delete (NoNode = done).  Sweep: sync(dir) so this server has seen every write of the
///                       session, getChildren(dir) (NoNode = done), delete the owner's children.  Then the item's
///                       continuation runs (e.g. drop the Redis record and ring the release bell).
///   ConnectionLoss, no answer in time          keep the item for the next pass.
///   session Expired / Closed / AuthFailed     drop its items: the server removed the session's ephemeral nodes.
/// </code>
/// The end of the session stays the final backstop: disposing the janitor drops what is left.
/// </remarks>
internal sealed partial class LockNodeJanitor : IAsyncDisposable
{
    /// <summary>Pause between passes while work remains for a connected session that did not answer.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<Item, byte> _pending = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private Task? _loop;

    public LockNodeJanitor(ILogger logger) => _logger = logger;

    /// <summary>Work not finished yet (for tests and diagnostics).</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Deletes <paramref name="path"/> on <paramref name="session"/>, then runs <paramref name="then"/>.</summary>
    public void Delete(ZooKeeperClient session, string path, Func<Task>? then = null) => Add(new Item(session, path, null, then));

    /// <summary>Deletes whatever node of <paramref name="ownerId"/> exists under <paramref name="dir"/> on <paramref name="session"/>.</summary>
    public void Sweep(ZooKeeperClient session, string dir, string ownerId) => Add(new Item(session, dir, ownerId, null));

    /// <summary>A session changed state: connected sessions get their work done now.</summary>
    public void OnSessionStateChanged(ZooKeeperState state)
    {
        if (!_pending.IsEmpty && state != ZooKeeperState.Suspended)
        {
            Kick();
        }
    }

    private void Add(Item item)
    {
        if (_stop.IsCancellationRequested)
        {
            return; // disposing: the session's close removes the nodes
        }

        _pending[item] = 0;
        lock (_gate)
        {
            _loop ??= Task.Run(LoopAsync);
        }

        Kick();
    }

    private void Kick()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // a pass is already due
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task LoopAsync()
    {
        var ct = _stop.Token;
        try
        {
            while (true)
            {
                await _wake.WaitAsync(_pending.IsEmpty ? Timeout.InfiniteTimeSpan : RetryDelay, ct).ConfigureAwait(false);
                if (!_pending.IsEmpty)
                {
                    await Task.WhenAll(_pending.Keys.Select(TryFinishAsync)).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task TryFinishAsync(Item item)
    {
        var zk = item.Session;
        switch (zk.State)
        {
            case ZooKeeperState.Expired or ZooKeeperState.Closed or ZooKeeperState.AuthFailed:
                _pending.TryRemove(item, out _);
                return;
            case not ZooKeeperState.Connected:
                return;
        }

        try
        {
            if (item.OwnerId is null)
            {
                await DeleteAsync(zk, item.Path).ConfigureAwait(false);
            }
            else
            {
                await SweepAsync(zk, item.Path, item.OwnerId).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SessionExpiredException or ObjectDisposedException)
        {
            _pending.TryRemove(item, out _);
            return;
        }
        catch (Exception ex) when (ex is ConnectionLossException or OperationTimeoutException or TimeoutException)
        {
            return; // outcome unknown again: next pass
        }
        catch (ZooKeeperException ex)
        {
            // Not transient (e.g. NoAuth): retrying cannot help; the session's end removes the node.
            _pending.TryRemove(item, out _);
            Log.GaveUp(_logger, item.Path, ex);
            return;
        }

        if (!_pending.TryRemove(item, out _) || item.Then is null)
        {
            return;
        }

        try
        {
            await item.Then().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.ContinuationFailed(_logger, item.Path, ex);
        }
    }

    private static async Task DeleteAsync(ZooKeeperClient zk, string path)
    {
        try
        {
            CoordinationDiagnostics.ZooKeeperWrites.Add(1);
            await zk.DeleteAsync(path).ConfigureAwait(false);
        }
        catch (NoNodeException)
        {
        }
    }

    private async Task SweepAsync(ZooKeeperClient zk, string dir, string ownerId)
    {
        IReadOnlyList<string> children;
        try
        {
            // A create sent on a connection that dropped may be applied before the session moved: sync makes this
            // server catch up with the leader, so the node is seen if it exists at all.
            await zk.SyncAsync(dir).ConfigureAwait(false);
            children = (await zk.GetChildrenAsync(dir).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return;
        }

        foreach (var child in children.Where(c => IsOwnedBy(c, ownerId)))
        {
            await DeleteAsync(zk, dir + "/" + child).ConfigureAwait(false);
            CoordinationDiagnostics.OrphansDeleted.Add(1);
            Log.OrphanDeleted(_logger, dir + "/" + child);
        }
    }

    /// <summary>
    /// True when queue node <paramref name="child"/> (<c>&lt;ownerId&gt;-[marker]NNNNNNNNNN</c>, the marker being empty
    /// for a lock, <c>S&lt;n&gt;-</c>, <c>R-</c> or <c>W-</c>, see <see cref="LockShape"/>) was created by the attempt <paramref name="ownerId"/>.
    /// </summary>
    internal static bool IsOwnedBy(string child, string ownerId) =>
        child.Length >= ownerId.Length + 11 && child.StartsWith(ownerId, StringComparison.Ordinal) && child[ownerId.Length] == '-';

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }

        _pending.Clear();
        _wake.Dispose();
        _stop.Dispose();
    }

    /// <summary>One piece of work: delete <see cref="Path"/>, or sweep directory <see cref="Path"/> for <see cref="OwnerId"/>.</summary>
    private sealed record Item(ZooKeeperClient Session, string Path, string? OwnerId, Func<Task>? Then);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "Deleted the lock node '{Path}' whose create had no answer (orphan)")]
        public static partial void OrphanDeleted(ILogger logger, string path);

        [LoggerMessage(EventId = 2112, Level = LogLevel.Warning, Message = "Gave up deleting lock node(s) at '{Path}'; they go when the ZooKeeper session ends")]
        public static partial void GaveUp(ILogger logger, string path, Exception exception);

        [LoggerMessage(EventId = 2111, Level = LogLevel.Warning, Message = "The step after deleting lock node '{Path}' failed")]
        public static partial void ContinuationFailed(ILogger logger, string path, Exception exception);
    }
}

using System.Diagnostics;
using Coordination.Diagnostics;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;

namespace Coordination.Locks;

/// <summary>
/// Decides when a granted ZooKeeper lock can no longer be trusted and fires its <see cref="LockHandle.LostToken"/>.
/// </summary>
/// <remarks>
/// <code>
/// own node deleted            => lost at the watch event (the watch is set OwnNodeWatchDelay after the grant: most
///                                locks are held briefly, and a watch request ahead of the release would delay it)
/// session Expired/Closed/AuthFailed => lost at once
/// session Suspended           => lost at LostAfterFraction x the negotiated session timeout after the sending of the
///                                newest request the server answered, unless the session is back by then. The server
///                                received that request no earlier, so it cannot expire the session (and let another
///                                caller in) before a quarter of the timeout later; a failover that re-attaches
///                                sooner reports nothing.
/// </code>
/// </remarks>
internal sealed class LockLossMonitor(ILogger logger, TimeProvider time, Func<ZooKeeperClient, IEnumerable<LockHandle>> heldOn, CancellationToken stopping)
{
    /// <summary>How long a lock is held before the watch on its own node is set.</summary>
    internal static readonly TimeSpan OwnNodeWatchDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Share of the negotiated session timeout, counted from the sending of the newest request the server answered,
    /// after which a suspended session's locks are reported lost.
    /// </summary>
    internal const double LostAfterFraction = 0.75;

    private long _generation;

    /// <summary>Reports <paramref name="handle"/> lost when its node is deleted.</summary>
    public void WatchOwnNode(ZooKeeperClient zk, LockHandle handle)
    {
        var path = handle.NodePath!;
        _ = WatchAsync();

        async Task WatchAsync()
        {
            try
            {
                await Task.Delay(OwnNodeWatchDelay, time, stopping).ConfigureAwait(false);
                if (handle.IsReleased || handle.IsLost)
                {
                    return;
                }

                // A node deleted meanwhile is reported when the watch is set (exists returns null).
                var stat = await zk.ExistsAsync(path, e =>
                {
                    if (e.Type == WatchEventType.NodeDeleted || e.State == WatchedEventState.Expired)
                    {
                        Lose(handle, e.Type == WatchEventType.NodeDeleted ? "its ZooKeeper node was deleted" : "the ZooKeeper session expired");
                    }
                }).ConfigureAwait(false);
                if (stat is null)
                {
                    Lose(handle, "its ZooKeeper node was deleted");
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex) when (ex is ZooKeeperException or ObjectDisposedException)
            {
                // Session loss is reported by the state handler.
                if (zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed)
                {
                    Lose(handle, "the ZooKeeper session ended");
                }
            }
        }
    }

    /// <summary>A session changed state: see the table in the type's remarks.</summary>
    public void OnStateChanged(ZooKeeperClient zk, ZooKeeperState state)
    {
        var generation = Interlocked.Increment(ref _generation);
        switch (state)
        {
            case ZooKeeperState.Expired:
            case ZooKeeperState.Closed:
            case ZooKeeperState.AuthFailed:
                LoseAll(zk, $"the ZooKeeper session is {state}");
                break;
            case ZooKeeperState.Suspended:
                var delay = zk.NegotiatedSessionTimeout * LostAfterFraction - Stopwatch.GetElapsedTime(zk.LastAcknowledgedSend);
                _ = SuspendedAsync(zk, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, generation);
                break;
        }
    }

    private async Task SuspendedAsync(ZooKeeperClient zk, TimeSpan delay, long generation)
    {
        try
        {
            await Task.Delay(delay, time, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (Interlocked.Read(ref _generation) == generation && zk.State != ZooKeeperState.Connected)
        {
            LoseAll(zk, $"no ZooKeeper server answered for {zk.NegotiatedSessionTimeout * LostAfterFraction} ({LostAfterFraction:0.##} of the session timeout) since the last acknowledged request");
        }
    }

    private void LoseAll(ZooKeeperClient zk, string reason)
    {
        foreach (var h in heldOn(zk))
        {
            Lose(h, reason);
        }
    }

    /// <summary>Fires the handle's lost signal once (not after release).</summary>
    public void Lose(LockHandle handle, string reason)
    {
        if (handle.IsReleased || handle.IsLost)
        {
            return;
        }

        Log.LockLost(logger, handle.Key, handle.FencingToken, reason);
        handle.MarkLost();
    }
}

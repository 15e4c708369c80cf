using System.Collections.Concurrent;
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
/// own node deleted            => lost at the watch event (the watch is set OwnNodeWatchDelay after the grant, by one
///                                shared timer: most locks are held briefly, and a watch request ahead of the release
///                                would delay it)
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

    private readonly ConcurrentQueue<(ZooKeeperClient Session, LockHandle Handle, long Due)> _toWatch = new();
    private readonly object _armGate = new();
    private ITimer? _armTimer;

    /// <summary>
    /// Reports <paramref name="handle"/> lost when its node is deleted. The watch is set <see cref="OwnNodeWatchDelay"/>
    /// later by one shared timer (a lock released before then never costs a watch, a timer or a task).
    /// </summary>
    public void WatchOwnNode(ZooKeeperClient zk, LockHandle handle)
    {
        _toWatch.Enqueue((zk, handle, time.GetTimestamp() + (long)(OwnNodeWatchDelay.TotalSeconds * time.TimestampFrequency)));
        lock (_armGate)
        {
            _armTimer ??= time.CreateTimer(static m => ((LockLossMonitor)m!).ArmDue(), this, OwnNodeWatchDelay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Sets the watches that are due (the queue is in due order: one delay for all), then sleeps until the next.</summary>
    private void ArmDue()
    {
        while (!stopping.IsCancellationRequested)
        {
            var now = time.GetTimestamp();
            while (_toWatch.TryPeek(out var next) && next.Due <= now && _toWatch.TryDequeue(out next))
            {
                if (!next.Handle.IsReleased && !next.Handle.IsLost)
                {
                    SetWatch(next.Session, next.Handle);
                }
            }

            lock (_armGate)
            {
                if (_toWatch.TryPeek(out var first))
                {
                    var wait = TimeSpan.FromSeconds((double)(first.Due - time.GetTimestamp()) / time.TimestampFrequency);
                    if (wait <= TimeSpan.Zero)
                    {
                        continue;
                    }

                    _armTimer!.Change(wait, Timeout.InfiniteTimeSpan);
                    return;
                }

                // Idle: the next WatchOwnNode starts a timer again.
                _armTimer?.Dispose();
                _armTimer = null;
                return;
            }
        }
    }

    private void SetWatch(ZooKeeperClient zk, LockHandle handle)
    {
        Task<ZooKeeperStat?> exists;
        try
        {
            // A node deleted meanwhile is reported when the watch is set (exists returns null).
            exists = zk.ExistsAsync(handle.NodePath!, e =>
            {
                if (e.Type == WatchEventType.NodeDeleted || e.State == WatchedEventState.Expired)
                {
                    Lose(handle, e.Type == WatchEventType.NodeDeleted ? "its ZooKeeper node was deleted" : "the ZooKeeper session expired");
                }
            });
        }
        catch (Exception ex) when (ex is ZooKeeperException or ObjectDisposedException)
        {
            OnWatchFailed(zk, handle);
            return;
        }

        _ = exists.ContinueWith(
            (t, state) =>
            {
                var h = (LockHandle)state!;
                if (t.IsCompletedSuccessfully)
                {
                    if (t.Result is null)
                    {
                        Lose(h, "its ZooKeeper node was deleted");
                    }
                }
                else if (t.Exception?.InnerException is ZooKeeperException or ObjectDisposedException || t.IsCanceled)
                {
                    OnWatchFailed(zk, h);
                }
            },
            handle,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>The watch could not be set: session loss is reported by the state handler, an ended session here.</summary>
    private void OnWatchFailed(ZooKeeperClient zk, LockHandle handle)
    {
        if (zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed)
        {
            Lose(handle, "the ZooKeeper session ended");
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

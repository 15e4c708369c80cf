using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <summary>
/// Requests a thread starts on a connected client between <see cref="ZooKeeperClient.BatchSends"/> and the end of the
/// scope leave in one socket write, in call order, written on this thread when the scope ends. Requests of one session
/// are applied by the server in order, so a read started right behind a write sees it without waiting for its reply
/// (the lock's create + getChildren in one round trip). Without the batch the second request of such a pair finds
/// the first in flight and is written from the thread pool (the client's burst rule), one hop later.
/// </summary>
/// <remarks>
/// A ref struct, so the scope cannot span an <c>await</c> (it is per thread). A request that has to wait for a
/// connection is not held; it is sent when the session is back, like any other.
/// </remarks>
internal ref struct SendBatch
{
    [ThreadStatic]
    private static int t_depth;

    [ThreadStatic]
    private static Connection? t_held;

    private bool _open;

    internal static SendBatch Begin()
    {
        t_depth++;
        return new SendBatch { _open = true };
    }

    /// <summary>True when a batch is open on this thread: the request joins it (and <paramref name="conn"/> is flushed at its end).</summary>
    internal static bool Hold(Connection conn)
    {
        if (t_depth == 0)
        {
            return false;
        }

        if (t_held is { } other && !ReferenceEquals(other, conn))
        {
            other.Flush(); // the session moved to another connection meanwhile: what was held goes out first
        }

        t_held = conn;
        return true;
    }

    /// <summary>Ends the scope: the held requests are written now.</summary>
    public void Dispose()
    {
        if (!_open)
        {
            return;
        }

        _open = false;
        if (--t_depth == 0 && t_held is { } conn)
        {
            t_held = null;
            conn.Flush();
        }
    }
}

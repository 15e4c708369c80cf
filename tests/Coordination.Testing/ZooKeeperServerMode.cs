namespace Coordination.Testing;

/// <summary>What a ZooKeeper server says it is, from the <c>Mode:</c> line of <c>srvr</c>.</summary>
public enum ZooKeeperServerMode
{
    /// <summary>The answer had no recognisable mode.</summary>
    Unknown,

    /// <summary>No connection could be made (stopped, paused or still booting).</summary>
    Unreachable,

    /// <summary>Running but not serving requests (e.g. no quorum).</summary>
    NotServing,

    /// <summary>A single server without an ensemble.</summary>
    Standalone,

    /// <summary>The ensemble's leader.</summary>
    Leader,

    /// <summary>An ensemble follower.</summary>
    Follower,

    /// <summary>An ensemble observer.</summary>
    Observer,

    /// <summary>A read-only server cut off from its quorum.</summary>
    ReadOnly,
}

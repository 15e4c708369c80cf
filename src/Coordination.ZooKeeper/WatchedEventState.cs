namespace Coordination.ZooKeeper;

/// <summary>Session state carried by a watch event (Watcher.Event.KeeperState).</summary>
public enum WatchedEventState
{
    /// <summary>Disconnected from the server.</summary>
    Disconnected = 0,
    /// <summary>Connected.</summary>
    SyncConnected = 3,
    /// <summary>Authentication failed.</summary>
    AuthFailed = 4,
    /// <summary>Connected to a read-only server.</summary>
    ConnectedReadOnly = 5,
    /// <summary>SASL authentication succeeded.</summary>
    SaslAuthenticated = 6,
    /// <summary>The session expired; watches will not fire again.</summary>
    Expired = -112,
    /// <summary>The client was closed.</summary>
    Closed = 7,
}

namespace Coordination.ZooKeeper;

/// <summary>What happened to a watched node (Watcher.Event.EventType).</summary>
public enum WatchEventType
{
    /// <summary>A session state change, not a node change.</summary>
    None = -1,
    /// <summary>The node was created.</summary>
    NodeCreated = 1,
    /// <summary>The node was deleted.</summary>
    NodeDeleted = 2,
    /// <summary>The node's data changed.</summary>
    NodeDataChanged = 3,
    /// <summary>The node's children changed.</summary>
    NodeChildrenChanged = 4,
    /// <summary>A data watch was removed.</summary>
    DataWatchRemoved = 5,
    /// <summary>A child watch was removed.</summary>
    ChildWatchRemoved = 6,
    /// <summary>A persistent watch was removed.</summary>
    PersistentWatchRemoved = 7,
}

/// <summary>Session state carried by a watch event (Watcher.Event.KeeperState).</summary>
public enum WatchKeeperState
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

/// <summary>A watch notification.</summary>
/// <param name="Type">What happened.</param>
/// <param name="State">The session state when it happened.</param>
/// <param name="Path">The node it happened to (relative to the chroot), or null for state events.</param>
public sealed record WatchedEvent(WatchEventType Type, WatchKeeperState State, string? Path);

/// <summary>Receives watch notifications. Called on the client's single event thread, in order; keep it short.</summary>
public delegate void ZooKeeperWatcher(WatchedEvent watchedEvent);

/// <summary>Kinds of persistent watch for <c>AddWatchAsync</c> (AddWatchMode).</summary>
public enum AddWatchMode
{
    /// <summary>Fires for data changes, creation and deletion of the node and changes to its children list, and stays.</summary>
    Persistent = 0,
    /// <summary>Fires for creation, deletion and data changes of the node and every descendant, and stays.</summary>
    PersistentRecursive = 1,
}

/// <summary>Which watches to remove (WatcherType).</summary>
public enum WatcherType
{
    /// <summary>Child watches.</summary>
    Children = 1,
    /// <summary>Data and exists watches.</summary>
    Data = 2,
    /// <summary>Every kind, persistent ones included.</summary>
    Any = 3,
    /// <summary>Persistent watches.</summary>
    Persistent = 4,
    /// <summary>Persistent recursive watches.</summary>
    PersistentRecursive = 5,
}

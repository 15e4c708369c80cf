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

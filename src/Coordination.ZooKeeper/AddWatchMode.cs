namespace Coordination.ZooKeeper;

/// <summary>Kinds of persistent watch for <c>AddWatchAsync</c> (AddWatchMode).</summary>
public enum AddWatchMode
{
    /// <summary>Fires for data changes, creation and deletion of the node and changes to its children list, and stays.</summary>
    Persistent = 0,
    /// <summary>Fires for creation, deletion and data changes of the node and every descendant, and stays.</summary>
    PersistentRecursive = 1,
}

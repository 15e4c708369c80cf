namespace Coordination.ZooKeeper;

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

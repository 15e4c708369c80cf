namespace Coordination.ZooKeeper;

/// <summary>How a znode is created (the flags of CreateMode).</summary>
public enum CreateMode
{
    /// <summary>Lives until deleted.</summary>
    Persistent = 0,
    /// <summary>Deleted when the creating session ends.</summary>
    Ephemeral = 1,
    /// <summary>Persistent, with a monotonically increasing 10-digit suffix appended to the name.</summary>
    PersistentSequential = 2,
    /// <summary>Ephemeral, with a monotonically increasing 10-digit suffix appended to the name.</summary>
    EphemeralSequential = 3,
    /// <summary>A container: the server deletes it some time after its last child is gone.</summary>
    Container = 4,
    /// <summary>Persistent, deleted by the server when it has had no children and no change for the TTL (needs extendedTypesEnabled).</summary>
    PersistentWithTtl = 5,
    /// <summary>Sequential variant of <see cref="PersistentWithTtl"/>.</summary>
    PersistentSequentialWithTtl = 6,
}

namespace Coordination.ZooKeeper;

/// <summary>Helpers for <see cref="CreateMode"/>.</summary>
public static class CreateModeExtensions
{
    /// <summary>True for the sequential modes.</summary>
    public static bool IsSequential(this CreateMode mode) => mode is CreateMode.PersistentSequential or CreateMode.EphemeralSequential or CreateMode.PersistentSequentialWithTtl;

    /// <summary>True for the TTL modes.</summary>
    public static bool IsTtl(this CreateMode mode) => mode is CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl;

    /// <summary>True for the ephemeral modes.</summary>
    public static bool IsEphemeral(this CreateMode mode) => mode is CreateMode.Ephemeral or CreateMode.EphemeralSequential;
}

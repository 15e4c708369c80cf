namespace Coordination.Locks;

/// <summary>
/// A re-entrant acquisition: the flow already held <see cref="FlowHold"/>, so this handle shares its key, fencing
/// token, lost signal and mode, and disposing it only gives back its count (the hold's last handle releases the lock).
/// Disposing it twice counts once.
/// </summary>
internal sealed class NestedLockHandle(FlowHold hold, LockShape shape) : IDistributedLockHandle
{
    private int _disposed;

    public string Key => hold.Key;

    public long FencingToken => hold.FencingToken;

    public CancellationToken LostToken => hold.LostToken;

    public DateTimeOffset AcquiredAt => hold.AcquiredAt;

    public LockMode Mode => hold.Mode;

    /// <summary>What the nested call asked for (a read lock nested in a write lock shares the writer's hold).</summary>
    public LockShape Shape => shape;

    /// <summary>The hold this handle nests in.</summary>
    public FlowHold Hold => hold;

    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _disposed, 1) == 0 ? hold.ReleaseOne() : ValueTask.CompletedTask;
}

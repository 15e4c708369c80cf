namespace Coordination.Locks;

/// <summary>
/// One acquisition in the lock scope of an async flow (<see cref="LockFlow"/>), and the handle its caller gets. It is
/// placed in the calling flow before the provider is asked, so the flow and every flow forked from it afterwards see
/// it; nested acquisitions of the same key by such a flow share it through <see cref="NestedLockHandle"/>, and the
/// provider's handle is released when the last of these handles is disposed (a hold count, as Curator's and
/// Redisson's re-entrant locks keep).
/// </summary>
/// <remarks>
/// <code>
/// Pending --granted--> Held --last handle disposed--> Released
///    \------ not granted, or the acquire threw --> Failed
/// </code>
/// Released and Failed holds are dead: the scope skips them and drops them when the flow places its next hold.
/// </remarks>
internal sealed class FlowHold : IDistributedLockHandle
{
    private const int Pending = 0;
    private const int Held = 1;
    private const int Released = 2;
    private const int Failed = 3;

    private IDistributedLockHandle? _inner;
    private int _state;
    private int _handles;
    private int _outerDisposed;

    public FlowHold(LockPrimitives owner, string key, LockShape shape, FlowHold? next)
    {
        Owner = owner;
        Key = key;
        Shape = shape;
        Next = next;
    }

    /// <summary>The provider that granted (or is asked for) this hold; a hold counts for its own provider only.</summary>
    public LockPrimitives Owner { get; }

    /// <summary>The holds the flow already had when this one was placed, newest first.</summary>
    public FlowHold? Next { get; }

    /// <summary>What was asked for: the lock, a permit, a read or a write lock.</summary>
    public LockShape Shape { get; }

    public string Key { get; }

    public bool IsHeld => Volatile.Read(ref _state) == Held;

    public bool IsDead => Volatile.Read(ref _state) >= Released;

    public long FencingToken => Granted.FencingToken;

    public CancellationToken LostToken => Granted.LostToken;

    public DateTimeOffset AcquiredAt => Granted.AcquiredAt;

    public LockMode Mode => Granted.Mode;

    /// <summary>The provider's own handle (null until granted).</summary>
    public IDistributedLockHandle? Inner => Volatile.Read(ref _inner);

    private IDistributedLockHandle Granted => Inner ?? throw new InvalidOperationException($"The {Shape.Name} '{Key}' has not been granted.");

    public void Grant(IDistributedLockHandle inner)
    {
        _inner = inner;
        _handles = 1;
        Volatile.Write(ref _state, Held);
    }

    public void Fail() => Volatile.Write(ref _state, Failed);

    /// <summary>Counts one more handle of this hold; false when it was released meanwhile (then acquire anew).</summary>
    public bool TryAddNested()
    {
        while (true)
        {
            var count = Volatile.Read(ref _handles);
            if (count == 0 || !IsHeld)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _handles, count + 1, count) == count)
            {
                return true;
            }
        }
    }

    /// <summary>One handle of this hold is disposed; the last one releases the provider's handle.</summary>
    public ValueTask ReleaseOne()
    {
        if (Interlocked.Decrement(ref _handles) != 0)
        {
            return ValueTask.CompletedTask;
        }

        Volatile.Write(ref _state, Released);
        return _inner!.DisposeAsync();
    }

    /// <summary>
    /// Releases this handle's count (the lock goes when no nested handle is left). The flow's scope is left as it is:
    /// a dead hold is skipped by every lookup and dropped by the flow's next acquire, which saves an ExecutionContext
    /// change per release.
    /// </summary>
    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _outerDisposed, 1) == 0 ? ReleaseOne() : ValueTask.CompletedTask;

    public override string ToString() => Shape.Name + " '" + Key + "'";
}

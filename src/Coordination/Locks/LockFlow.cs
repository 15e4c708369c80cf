namespace Coordination.Locks;

/// <summary>
/// The lock scope of the current async flow: the holds its acquisitions placed (<see cref="FlowHold"/>), newest
/// first, in one <see cref="AsyncLocal{T}"/>. It is what makes locks re-entrant per logical flow rather than per thread.
/// </summary>
/// <remarks>
/// <code>
/// acquire(K):  the flow's scope has a live hold of K from this provider (same primitive family)?
///                lock / write held, lock / write / read asked  => nested handle at once, no queue, no remote work
///                read held, read asked                         => nested handle at once
///                read held, write asked                        => LockRecursionException at once (no upgrade)
///                ReentrantLocks off                            => LockRecursionException at once
///              else: place a Pending hold at the head of the scope, in the caller's flow (the provider's public
///                methods are not async methods, so the change is made in the caller's ExecutionContext), then
///                acquire; the hold becomes Held or Failed.
/// dispose:     the hold count drops; the last handle releases the lock (the dead hold is skipped from then on).
/// </code>
/// The scope is an immutable list: a flow forked while a hold is live (Task.Run, an un-awaited async call) shares that
/// hold and may re-enter it; a fork made before the hold was placed, a flow started under
/// <see cref="ExecutionContext.SuppressFlow"/>, and sibling flows that each took a lock of their own do not. The hold
/// belongs to the method that called the provider: an async helper method that awaits the acquire and returns the
/// handle ends the scope when it returns (ExecutionContext changes never flow back to an awaiting caller).
/// Semaphore permits are recorded (for diagnostics) but never re-entered: each acquire takes a permit.
/// </remarks>
internal static class LockFlow
{
    private static readonly AsyncLocal<FlowHold?> Head = new();

    /// <summary>The newest hold of the current flow, or null when it holds nothing (no allocation either way).</summary>
    public static FlowHold? Current => Head.Value;

    /// <summary>Places a pending hold at the head of the current flow's scope, dropping dead holds above the live ones.</summary>
    public static FlowHold Place(LockPrimitives owner, string key, LockShape shape)
    {
        var hold = new FlowHold(owner, key, shape, SkipDead(Head.Value));
        Head.Value = hold;
        return hold;
    }

    /// <summary>The newest live hold of <paramref name="key"/> granted by <paramref name="owner"/> for the family of <paramref name="shape"/>.</summary>
    public static FlowHold? FindHeld(FlowHold? scope, LockPrimitives owner, string key, LockShape shape)
    {
        for (var h = scope; h is not null; h = h.Next)
        {
            if (ReferenceEquals(h.Owner, owner) && SameFamily(h.Shape.Kind, shape.Kind) && h.IsHeld && string.Equals(h.Key, key, StringComparison.Ordinal))
            {
                return h;
            }
        }

        return null;
    }

    /// <summary>The live holds of a scope, newest first, as "lock 'a'", "read lock 'b'"...</summary>
    public static IReadOnlyList<string> Describe(FlowHold? scope)
    {
        List<string>? held = null;
        for (var h = scope; h is not null; h = h.Next)
        {
            if (h.IsHeld)
            {
                (held ??= []).Add(h.ToString());
            }
        }

        return held ?? (IReadOnlyList<string>)[];
    }

    /// <summary>The error for a re-acquire this flow cannot be granted: an upgrade, or any re-entry with re-entrancy off.</summary>
    public static LockRecursionException Refused(FlowHold held, string key, LockShape asked) =>
        held.Shape.Kind == LockKind.Read && asked.Kind == LockKind.Write
            ? new($"This flow holds the read lock of '{key}' and asked for its write lock. A read lock cannot be upgraded: waiting would deadlock on the flow's own read lock. Release the read lock first, or take the write lock from the start (a write lock may then take the read lock).")
            : new($"This flow already holds the {held.Shape.Name} '{key}' and asked for the {asked.Name} again, and re-entrant locks are off (HybridCoordinationOptions.ReentrantLocks = false): waiting would deadlock on its own lock. Dispose the held handle first, or turn ReentrantLocks on.");

    private static bool SameFamily(LockKind a, LockKind b) => a == b || (a is LockKind.Read or LockKind.Write && b is LockKind.Read or LockKind.Write);

    private static FlowHold? SkipDead(FlowHold? h)
    {
        while (h is { IsDead: true })
        {
            h = h.Next;
        }

        return h;
    }
}

using Coordination.Diagnostics;
using Coordination.Keys;

namespace Coordination.Locks;

/// <summary>
/// The public face every provider shares: the lock, semaphore and reader-writer entry points validate their input
/// (key, timeout, permit count) and map to one <see cref="LockShape"/> acquisition, so each mode implements a single
/// acquire and every primitive gets the same rules and messages. Here, once for every mode and every host, locks are
/// made re-entrant per async flow (<see cref="LockFlow"/>) and waits that could hang are watched
/// (<see cref="LockWaitRegistry"/>).
/// </summary>
/// <remarks>
/// The entry points are deliberately not async methods: the flow's lock scope must change in the caller's
/// ExecutionContext (see <see cref="LockFlow"/>). Input errors are returned as faulted tasks, as from an async method.
/// When the flow holds nothing the re-entry check is one AsyncLocal read.
/// </remarks>
internal abstract class LockPrimitives(HybridCoordinationOptions options, LockMode mode) : IDistributedLockProvider, IDistributedSemaphoreProvider, IDistributedReaderWriterLockProvider
{
    private readonly int _maxKeyLength = options.MaxKeyLength;
    private readonly bool _reentrant = options.ReentrantLocks;

    /// <summary>The mode of the locks this provider grants.</summary>
    protected LockMode Mode => mode;

    internal LockMode ProviderMode => mode;

    /// <summary>Where waits that may turn long are registered: the container's registry (set by the factory), or the provider's own.</summary>
    internal LockWaitRegistry Waits { get; set; } = new(options);

    /// <summary>True once the provider is disposed (a re-entry is refused as any acquire would be).</summary>
    protected virtual bool IsDisposed => false;

    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Enter(key, LockShape.Mutex, timeout, orThrow: false, cancellationToken);

    public ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Enter(key, LockShape.Mutex, timeout, orThrow: true, cancellationToken)!;

    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Enter(key, maxCount, timeout, orThrow: false, cancellationToken);

    public ValueTask<IDistributedLockHandle> AcquireAsync(string key, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Enter(key, maxCount, timeout, orThrow: true, cancellationToken)!;

    public ValueTask<IDistributedLockHandle?> TryAcquireReadAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Enter(key, LockShape.Read, timeout, orThrow: false, cancellationToken);

    public ValueTask<IDistributedLockHandle> AcquireReadAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Enter(key, LockShape.Read, timeout, orThrow: true, cancellationToken)!;

    public ValueTask<IDistributedLockHandle?> TryAcquireWriteAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        Enter(key, LockShape.Write, timeout, orThrow: false, cancellationToken);

    public ValueTask<IDistributedLockHandle> AcquireWriteAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Enter(key, LockShape.Write, timeout, orThrow: true, cancellationToken)!;

    /// <summary>True when this provider holds <paramref name="key"/> of <paramref name="shape"/>'s family in this process (wait diagnostics).</summary>
    internal abstract bool HoldsInProcess(string key, LockShape shape);

    /// <summary>Acquires <paramref name="shape"/> of a validated key within <paramref name="timeout"/> (null = no limit, zero = try once); null when not granted.</summary>
    protected abstract ValueTask<IDistributedLockHandle?> AcquireCoreAsync(string key, LockShape shape, TimeSpan? timeout, CancellationToken ct);

    private ValueTask<IDistributedLockHandle?> Enter(string key, int maxCount, TimeSpan? timeout, bool orThrow, CancellationToken ct)
    {
        try
        {
            LockShape.ValidatePermits(maxCount);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            return ValueTask.FromException<IDistributedLockHandle?>(ex);
        }

        return Enter(key, LockShape.Semaphore(maxCount), timeout, orThrow, ct);
    }

    private ValueTask<IDistributedLockHandle?> Enter(string key, LockShape shape, TimeSpan? timeout, bool orThrow, CancellationToken ct)
    {
        FlowHold hold;
        try
        {
            LockKey.Validate(key, _maxKeyLength);
            LockTimeouts.Validate(timeout);
            if (shape.Kind != LockKind.Semaphore && LockFlow.Current is { } scope && Reenter(scope, key, shape, ct) is { } nested)
            {
                return new(nested);
            }

            hold = LockFlow.Place(this, key, shape);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<IDistributedLockHandle?>(ex);
        }

        return AcquireAsync(hold, timeout, orThrow, ct);
    }

    /// <summary>A nested handle when the flow holds the key (null: acquire as usual); throws when it may not re-enter.</summary>
    private NestedLockHandle? Reenter(FlowHold scope, string key, LockShape shape, CancellationToken ct)
    {
        if (LockFlow.FindHeld(scope, this, key, shape) is not { } held)
        {
            return null;
        }

        if (!_reentrant || (held.Shape.Kind == LockKind.Read && shape.Kind == LockKind.Write))
        {
            throw LockFlow.Refused(held, key, shape);
        }

        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!held.TryAddNested())
        {
            return null; // released meanwhile (by a forked flow): acquire as usual
        }

        CoordinationDiagnostics.Reentries.Add(1, mode, key, shape);
        return new NestedLockHandle(held, shape);
    }

    private async ValueTask<IDistributedLockHandle?> AcquireAsync(FlowHold hold, TimeSpan? asked, bool orThrow, CancellationToken ct)
    {
        var timeout = LockTimeouts.Normalize(asked);
        IDistributedLockHandle? handle;
        LockWaitRegistry.Wait? watched = null;
        try
        {
            var pending = AcquireCoreAsync(hold.Key, hold.Shape, timeout, ct);
            if (!pending.IsCompleted && Waits.Watches(timeout))
            {
                watched = Waits.Add(hold, timeout);
            }

            handle = await pending.ConfigureAwait(false);
        }
        catch
        {
            hold.Fail();
            if (watched is not null)
            {
                Waits.Remove(watched, granted: false);
            }

            throw;
        }

        if (handle is null)
        {
            hold.Fail();
        }
        else
        {
            hold.Grant(handle);
        }

        if (watched is not null)
        {
            Waits.Remove(watched, granted: handle is not null);
        }

        return handle is not null ? hold
            : orThrow ? throw LockTimeouts.TimedOut(hold.Key, asked, hold.Shape)
            : null;
    }
}

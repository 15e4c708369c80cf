namespace Coordination.Locks;

/// <summary>
/// A per-key FIFO async gate inside one process: a mutex, a semaphore of N permits, or a reader-writer lock
/// (readers share, a writer excludes, strictly FIFO so a waiting writer is not starved). The remote modes put callers
/// through it first so that a hot key costs at most as many remote waiters per process as it has permits (DESIGN
/// §2.7); InProcess mode uses it alone. Entries are created on demand and removed when the last holder or waiter
/// leaves, so nothing leaks.
/// </summary>
internal sealed class LocalLockQueue
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Number of keys with a holder or waiter (for tests and diagnostics).</summary>
    public int ActiveKeys
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>True when someone in this process holds a local turn on <paramref name="key"/> (for wait diagnostics).</summary>
    public bool IsHeld(string key)
    {
        lock (_entries)
        {
            return _entries.TryGetValue(key, out var entry) && entry.Held > 0;
        }
    }

    /// <summary>
    /// Waits for the local turn on <paramref name="key"/>. Returns a releaser, or null if <paramref name="timeout"/>
    /// elapsed first. Throws <see cref="OperationCanceledException"/> if cancelled; in both cases nothing is left queued.
    /// </summary>
    public ValueTask<Releaser?> EnterAsync(string key, TimeSpan? timeout, CancellationToken cancellationToken) =>
        EnterAsync(key, LockShape.Mutex, timeout, cancellationToken);

    /// <summary>
    /// Waits for a local turn of <paramref name="shape"/> on <paramref name="key"/> (a key of one shape family, see
    /// <see cref="LockShape.LocalKey"/>); as <see cref="EnterAsync(string, TimeSpan?, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A semaphore is in use here with another permit count.</exception>
    public async ValueTask<Releaser?> EnterAsync(string key, LockShape shape, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var exclusive = shape.Exclusive;
        Waiter waiter;
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out entry!))
            {
                entry = new Entry { Permits = shape.Permits };
                _entries.Add(key, entry);
            }
            else if (shape.Kind == LockKind.Semaphore && entry.Permits != shape.Permits)
            {
                throw LockShape.PermitMismatch(LockShape.KeyOfLocal(key), entry.Permits, shape.Permits);
            }

            if (entry.Waiters.Count == 0 && entry.CanGrant(exclusive, shape.Permits))
            {
                entry.Grant(exclusive);
                return new Releaser(this, key, entry, exclusive);
            }

            if (timeout is { } t && t <= TimeSpan.Zero)
            {
                RemoveIfIdle(key, entry);
                return null;
            }

            waiter = new Waiter(exclusive, shape.Permits);
            entry.Waiters.AddLast(waiter);
        }

        try
        {
            if (timeout is { } wait)
            {
                await waiter.Turn.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await waiter.Turn.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            return new Releaser(this, key, entry, exclusive);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (_entries)
            {
                if (entry.Waiters.Remove(waiter))
                {
                    Pump(key, entry); // a writer that gave up no longer holds back the readers behind it
                    if (ex is TimeoutException)
                    {
                        return null;
                    }

                    throw;
                }
            }

            // The turn was handed to us while we were giving up: pass it on.
            Release(key, entry, exclusive);
            if (ex is TimeoutException)
            {
                return null;
            }

            throw;
        }
    }

    private void Release(string key, Entry entry, bool exclusive)
    {
        lock (_entries)
        {
            entry.Held--;
            if (exclusive)
            {
                entry.ExclusiveHeld = false;
            }

            Pump(key, entry);
        }
    }

    /// <summary>Strict FIFO: grants from the head while the head fits (a writer at the head stops the readers behind it).</summary>
    private void Pump(string key, Entry entry)
    {
        while (entry.Waiters.First is { } next && entry.CanGrant(next.Value.Exclusive, next.Value.Permits))
        {
            entry.Waiters.RemoveFirst();
            entry.Grant(next.Value.Exclusive);
            next.Value.Turn.TrySetResult();
        }

        RemoveIfIdle(key, entry);
    }

    private void RemoveIfIdle(string key, Entry entry)
    {
        if (entry.Held == 0 && entry.Waiters.Count == 0)
        {
            _entries.Remove(key);
        }
    }

    internal sealed class Entry
    {
        public int Held;
        public bool ExclusiveHeld;
        public int Permits;
        public readonly LinkedList<Waiter> Waiters = new();

        public bool CanGrant(bool exclusive, int permits) => exclusive ? Held == 0 : !ExclusiveHeld && Held < permits;

        public void Grant(bool exclusive)
        {
            Held++;
            ExclusiveHeld |= exclusive;
        }
    }

    internal sealed class Waiter(bool exclusive, int permits)
    {
        public bool Exclusive => exclusive;
        public int Permits => permits;
        public TaskCompletionSource Turn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Gives the local turn to the next waiter. Idempotent.</summary>
    internal sealed class Releaser : IDisposable
    {
        private readonly LocalLockQueue _owner;
        private readonly string _key;
        private readonly Entry _entry;
        private readonly bool _exclusive;
        private int _released;

        public Releaser(LocalLockQueue owner, string key, Entry entry, bool exclusive)
        {
            _owner = owner;
            _key = key;
            _entry = entry;
            _exclusive = exclusive;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _owner.Release(_key, _entry, _exclusive);
            }
        }
    }
}

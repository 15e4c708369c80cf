namespace Coordination.Locks;

/// <summary>
/// A per-key FIFO async mutex inside one process. The hybrid and ZooKeeper modes put callers through it first
/// so that a hot key costs one remote waiter per process (DESIGN §2.7); InProcess mode uses it alone.
/// Entries are created on demand and removed when the last holder or waiter leaves, so nothing leaks.
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

    /// <summary>
    /// Waits for the local turn on <paramref name="key"/>. Returns a releaser, or null if <paramref name="timeout"/>
    /// elapsed first. Throws <see cref="OperationCanceledException"/> if cancelled; in both cases nothing is left queued.
    /// </summary>
    public async ValueTask<Releaser?> EnterAsync(string key, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource waiter;
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out entry!))
            {
                entry = new Entry();
                _entries.Add(key, entry);
            }

            if (!entry.Held)
            {
                entry.Held = true;
                return new Releaser(this, key, entry);
            }

            if (timeout is { } t && t <= TimeSpan.Zero)
            {
                return null;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            entry.Waiters.AddLast(waiter);
        }

        try
        {
            if (timeout is { } wait)
            {
                await waiter.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            return new Releaser(this, key, entry);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (_entries)
            {
                if (entry.Waiters.Remove(waiter))
                {
                    RemoveIfIdle(key, entry);
                    if (ex is TimeoutException)
                    {
                        return null;
                    }

                    throw;
                }
            }

            // The turn was handed to us while we were giving up: pass it on.
            Release(key, entry);
            if (ex is TimeoutException)
            {
                return null;
            }

            throw;
        }
    }

    private void Release(string key, Entry entry)
    {
        lock (_entries)
        {
            var next = entry.Waiters.First;
            if (next is null)
            {
                entry.Held = false;
                RemoveIfIdle(key, entry);
                return;
            }

            entry.Waiters.RemoveFirst();
            next.Value.TrySetResult();
        }
    }

    private void RemoveIfIdle(string key, Entry entry)
    {
        if (!entry.Held && entry.Waiters.Count == 0)
        {
            _entries.Remove(key);
        }
    }

    internal sealed class Entry
    {
        public bool Held;
        public readonly LinkedList<TaskCompletionSource> Waiters = new();
    }

    /// <summary>Gives the local turn to the next waiter. Idempotent.</summary>
    internal sealed class Releaser : IDisposable
    {
        private readonly LocalLockQueue _owner;
        private readonly string _key;
        private readonly Entry _entry;
        private int _released;

        public Releaser(LocalLockQueue owner, string key, Entry entry)
        {
            _owner = owner;
            _key = key;
            _entry = entry;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _owner.Release(_key, _entry);
            }
        }
    }
}

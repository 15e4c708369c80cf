using System.Collections.Concurrent;
using Coordination.Locks;

namespace Coordination.Aspects.Tests.Behaviour;

/// <summary>
/// Decorates a real provider (exclusion stays the real provider's job) to record acquired keys, count waiters and held
/// locks, fail like an unreachable backend, and fire the lost-lock signal of held handles on demand.
/// </summary>
internal sealed class RecordingLockProvider(IDistributedLockProvider inner) : IDistributedLockProvider
{
    private readonly ConcurrentDictionary<Handle, byte> _live = new();
    private int _waiting;
    private int _held;

    public ConcurrentQueue<string> AcquiredKeys { get; } = new();

    /// <summary>Calls currently waiting inside the real provider.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Locks acquired and not yet released.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>When set, every acquisition throws it (a backend that cannot decide).</summary>
    public Exception? FailWith { get; set; }

    public async ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        if (FailWith is { } failure)
        {
            throw failure;
        }

        Interlocked.Increment(ref _waiting);
        IDistributedLockHandle? handle;
        try
        {
            handle = await inner.TryAcquireAsync(key, timeout, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return handle is null ? null : Track(handle);
    }

    public async ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await TryAcquireAsync(key, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken)
        ?? throw new TimeoutException($"Timed out acquiring '{key}'.");

    /// <summary>Fires LostToken on every held handle.</summary>
    public void LoseAll()
    {
        foreach (var handle in _live.Keys)
        {
            handle.Lose();
        }
    }

    private Handle Track(IDistributedLockHandle handle)
    {
        AcquiredKeys.Enqueue(handle.Key);
        Interlocked.Increment(ref _held);
        var tracked = new Handle(this, handle);
        _live.TryAdd(tracked, 0);
        return tracked;
    }

    private sealed class Handle(RecordingLockProvider owner, IDistributedLockHandle inner) : IDistributedLockHandle
    {
        private readonly CancellationTokenSource _lost = CancellationTokenSource.CreateLinkedTokenSource(inner.LostToken);
        private int _disposed;

        public string Key => inner.Key;
        public long FencingToken => inner.FencingToken;
        public CancellationToken LostToken => _lost.Token;
        public DateTimeOffset AcquiredAt => inner.AcquiredAt;
        public LockMode Mode => inner.Mode;

        public void Lose() => _lost.Cancel();

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            owner._live.TryRemove(this, out _);
            await inner.DisposeAsync();
            Interlocked.Decrement(ref owner._held);
            _lost.Dispose();
        }
    }
}

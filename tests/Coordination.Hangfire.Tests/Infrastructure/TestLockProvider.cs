using System.Collections.Concurrent;
using Coordination.Locks;

namespace Coordination.Hangfire.Tests.Infrastructure;

/// <summary>
/// Wraps the real provider under test and adds what the tests need to control: mark a key's handles lost, make a
/// key's acquisition throw, and see which handles are live and which fencing tokens were issued.
/// </summary>
public sealed class TestLockProvider(IDistributedLockProvider inner) : IDistributedLockProvider, IDistributedSemaphoreProvider
{
    private readonly ConcurrentDictionary<string, Exception> _failures = new();
    private readonly ConcurrentDictionary<TestHandle, byte> _live = new();

    public IDistributedLockProvider Inner => inner;

    public ConcurrentQueue<(string Key, long Token)> Issued { get; } = new();

    public ConcurrentQueue<string> CancelledWaits { get; } = new();

    public int LiveHandles(string key) => _live.Keys.Count(h => h.Key == key);

    public void FailWith(string key, Exception? exception)
    {
        if (exception is null)
        {
            _failures.TryRemove(key, out _);
        }
        else
        {
            _failures[key] = exception;
        }
    }

    public void MarkLost(string key)
    {
        foreach (var handle in _live.Keys.Where(h => h.Key == key))
        {
            handle.MarkLost();
        }
    }

    public async ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        if (_failures.TryGetValue(key, out var failure))
        {
            throw failure;
        }

        IDistributedLockHandle? handle;
        try
        {
            handle = await inner.TryAcquireAsync(key, timeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            CancelledWaits.Enqueue(key);
            throw;
        }

        if (handle is null)
        {
            return null;
        }

        var wrapped = new TestHandle(handle, this);
        _live[wrapped] = 0;
        Issued.Enqueue((key, handle.FencingToken));
        return wrapped;
    }

    public async ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var handle = await TryAcquireAsync(key, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken);
        return handle ?? throw new TimeoutException($"Timed out waiting for '{key}'.");
    }

    /// <summary>Semaphore permits go straight to the real provider (jobs with MaxConcurrency).</summary>
    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        ((IDistributedSemaphoreProvider)inner).TryAcquireAsync(key, maxCount, timeout, cancellationToken);

    public ValueTask<IDistributedLockHandle> AcquireAsync(string key, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        ((IDistributedSemaphoreProvider)inner).AcquireAsync(key, maxCount, timeout, cancellationToken);

    private sealed class TestHandle : IDistributedLockHandle
    {
        private readonly IDistributedLockHandle _inner;
        private readonly TestLockProvider _owner;
        private readonly CancellationTokenSource _lost;

        public TestHandle(IDistributedLockHandle inner, TestLockProvider owner)
        {
            _inner = inner;
            _owner = owner;
            _lost = CancellationTokenSource.CreateLinkedTokenSource(inner.LostToken);
        }

        public string Key => _inner.Key;
        public long FencingToken => _inner.FencingToken;
        public CancellationToken LostToken => _lost.Token;
        public DateTimeOffset AcquiredAt => _inner.AcquiredAt;
        public LockMode Mode => _inner.Mode;

        public void MarkLost() => _lost.Cancel();

        public async ValueTask DisposeAsync()
        {
            _owner._live.TryRemove(this, out _);
            await _inner.DisposeAsync();
        }
    }
}

using System.Collections.Concurrent;
using Coordination.Locks;

namespace Coordination.AspNetCore.Tests.Infrastructure;

/// <summary>
/// A provider whose failures tests control: it can refuse to decide (<see cref="LockUnavailableException"/>), and
/// its handles can be marked lost. It always grants otherwise, and counts grants and releases.
/// </summary>
internal sealed class FakeLockProvider : IDistributedLockProvider
{
    private long _token;
    private int _attempts;
    private int _released;

    public bool Unavailable { get; set; }

    public ConcurrentQueue<FakeHandle> Granted { get; } = new();

    public int Attempts => Volatile.Read(ref _attempts);

    public int Released => Volatile.Read(ref _released);

    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _attempts);
        if (Unavailable)
        {
            throw new LockUnavailableException("ZooKeeper is unreachable (fake).");
        }

        var handle = new FakeHandle(this, key, Interlocked.Increment(ref _token));
        Granted.Enqueue(handle);
        return ValueTask.FromResult<IDistributedLockHandle?>(handle);
    }

    public async ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await TryAcquireAsync(key, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false) ?? throw new TimeoutException();

    internal sealed class FakeHandle(FakeLockProvider owner, string key, long token) : IDistributedLockHandle
    {
        private readonly CancellationTokenSource _lost = new();

        public string Key => key;

        public long FencingToken => token;

        public CancellationToken LostToken => _lost.Token;

        public DateTimeOffset AcquiredAt { get; } = DateTimeOffset.UtcNow;

        public LockMode Mode => LockMode.Hybrid;

        public void MarkLost() => _lost.Cancel();

        public ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref owner._released);
            return ValueTask.CompletedTask;
        }
    }
}

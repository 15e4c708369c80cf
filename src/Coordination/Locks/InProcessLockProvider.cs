using Microsoft.Extensions.Options;

namespace Coordination.Locks;

/// <summary>
/// <see cref="LockMode.InProcess"/>: FIFO per-key locks, semaphores and reader-writer locks inside this process
/// (<see cref="LocalLockQueue"/>), with the same key rules and fencing semantics as the distributed modes. For tests
/// and single-instance development only.
/// </summary>
internal sealed class InProcessLockProvider : LockPrimitives
{
    private readonly LocalLockQueue _queue = new();
    private readonly Dictionary<string, long> _tokens = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public InProcessLockProvider(IOptions<HybridCoordinationOptions> options, TimeProvider? time = null)
        : base(options.Value, LockMode.InProcess)
    {
        _time = time ?? TimeProvider.System;
    }

    internal LocalLockQueue Queue => _queue;

    internal override bool HoldsInProcess(string key, LockShape shape) => _queue.IsHeld(shape.LocalKey(key));

    protected override async ValueTask<IDistributedLockHandle?> AcquireCoreAsync(string key, LockShape shape, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var localKey = shape.LocalKey(key);
        var releaser = await _queue.EnterAsync(localKey, shape, timeout, cancellationToken).ConfigureAwait(false);
        if (releaser is null)
        {
            return null;
        }

        long token;
        lock (_tokens)
        {
            _tokens.TryGetValue(localKey, out token);
            _tokens[localKey] = ++token;
        }

        return new Handle(key, token, _time.GetUtcNow(), releaser);
    }

    private sealed class Handle(string key, long token, DateTimeOffset acquiredAt, LocalLockQueue.Releaser releaser) : IDistributedLockHandle
    {
        public string Key => key;
        public long FencingToken => token;
        public CancellationToken LostToken => CancellationToken.None;
        public DateTimeOffset AcquiredAt => acquiredAt;
        public LockMode Mode => LockMode.InProcess;

        public ValueTask DisposeAsync()
        {
            releaser.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

using Coordination.Keys;
using Microsoft.Extensions.Options;

namespace Coordination.Locks;

/// <summary>
/// <see cref="LockMode.InProcess"/>: a FIFO per-key mutex inside this process, with the same key rules and
/// fencing semantics as the distributed modes. For tests and single-instance development only.
/// </summary>
internal sealed class InProcessLockProvider : IDistributedLockProvider
{
    private readonly LocalLockQueue _queue = new();
    private readonly Dictionary<string, long> _tokens = new(StringComparer.Ordinal);
    private readonly int _maxKeyLength;
    private readonly TimeProvider _time;

    public InProcessLockProvider(IOptions<HybridCoordinationOptions> options, TimeProvider? time = null)
    {
        _maxKeyLength = options.Value.MaxKeyLength;
        _time = time ?? TimeProvider.System;
    }

    internal LocalLockQueue Queue => _queue;

    public async ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        LockKey.Validate(key, _maxKeyLength);
        LockTimeouts.Validate(timeout);
        var releaser = await _queue.EnterAsync(key, LockTimeouts.Normalize(timeout), cancellationToken).ConfigureAwait(false);
        if (releaser is null)
        {
            return null;
        }

        long token;
        lock (_tokens)
        {
            _tokens.TryGetValue(key, out token);
            _tokens[key] = ++token;
        }

        return new Handle(key, token, _time.GetUtcNow(), releaser);
    }

    public async ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        LockTimeouts.Validate(timeout);
        var handle = await TryAcquireAsync(key, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return handle ?? throw LockTimeouts.TimedOut(key, timeout);
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

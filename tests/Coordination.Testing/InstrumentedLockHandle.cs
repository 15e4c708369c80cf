using Coordination.Locks;

namespace Coordination.Testing;

/// <summary>A handle granted through <see cref="InstrumentedLockProvider"/>: the real handle, plus a lost signal tests can fire.</summary>
public sealed class InstrumentedLockHandle : IDistributedLockHandle
{
    private readonly IDistributedLockHandle _inner;
    private readonly InstrumentedLockProvider _owner;
    private readonly CancellationTokenSource _lost;
    private int _disposed;

    internal InstrumentedLockHandle(IDistributedLockHandle inner, InstrumentedLockProvider owner)
    {
        _inner = inner;
        _owner = owner;
        _lost = CancellationTokenSource.CreateLinkedTokenSource(inner.LostToken);
    }

    /// <inheritdoc />
    public string Key => _inner.Key;

    /// <inheritdoc />
    public long FencingToken => _inner.FencingToken;

    /// <inheritdoc />
    public CancellationToken LostToken => _lost.Token;

    /// <inheritdoc />
    public DateTimeOffset AcquiredAt => _inner.AcquiredAt;

    /// <inheritdoc />
    public LockMode Mode => _inner.Mode;

    /// <summary>Fires <see cref="LostToken"/> as if the backend could no longer vouch for the lock.</summary>
    public void MarkLost() => _lost.Cancel();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _inner.DisposeAsync();
        }
        finally
        {
            _owner.OnReleased(this);
            _lost.Dispose();
        }
    }
}

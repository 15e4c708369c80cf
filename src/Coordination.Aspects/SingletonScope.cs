using System.ComponentModel;
using Coordination.Locks;

namespace Coordination.Aspects;

/// <summary>
/// One held <see cref="SingletonAttribute"/> lock for the duration of a call: links the call's cancellation token with
/// the lock's lost-lock signal and releases the lock when disposed. Created by generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class SingletonScope : IAsyncDisposable
{
    private CancellationTokenSource? _linked;

    internal SingletonScope(IDistributedLockHandle handle)
    {
        Handle = handle;
    }

    /// <summary>The held lock.</summary>
    public IDistributedLockHandle Handle { get; }

    /// <summary>
    /// Returns a token that fires when <paramref name="cancellationToken"/> fires or the lock is lost, so the guarded
    /// method stops when it can no longer trust the lock.
    /// </summary>
    public CancellationToken Link(CancellationToken cancellationToken)
    {
        var lost = Handle.LostToken;
        if (!lost.CanBeCanceled)
        {
            return cancellationToken;
        }

        if (!cancellationToken.CanBeCanceled)
        {
            return lost;
        }

        _linked?.Dispose();
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lost);
        return _linked.Token;
    }

    /// <summary>Releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        _linked?.Dispose();
        _linked = null;
        await Handle.DisposeAsync().ConfigureAwait(false);
    }
}

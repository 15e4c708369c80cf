using Coordination.Locks;

namespace Coordination.AspNetCore.Middleware;

/// <summary>Exposes the held lock to handlers without letting them release it.</summary>
internal sealed class DistributedLockFeature(IDistributedLockHandle handle) : IDistributedLockFeature
{
    public string Key => handle.Key;

    public long FencingToken => handle.FencingToken;

    public DateTimeOffset AcquiredAt => handle.AcquiredAt;

    public LockMode Mode => handle.Mode;

    public CancellationToken LostToken => handle.LostToken;
}

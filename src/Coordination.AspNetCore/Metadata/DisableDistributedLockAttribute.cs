namespace Coordination.AspNetCore;

/// <summary>
/// Opts a controller, action or endpoint out of a distributed lock declared at a broader level (a controller-level
/// <see cref="DistributedLockAttribute"/>, or <c>.WithDistributedLock(...)</c> on a route group).
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DisableDistributedLockAttribute : Attribute
{
    internal static readonly DisableDistributedLockAttribute Instance = new();
}

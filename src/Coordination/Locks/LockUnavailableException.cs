namespace Coordination.Locks;

/// <summary>
/// The lock backend cannot decide ownership right now (for example ZooKeeper is unreachable and no unsafe
/// fallback is allowed). No lock was granted: callers must not run the guarded work.
/// </summary>
public sealed class LockUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LockUnavailableException() : base("The distributed lock backend is unavailable.") { }

    /// <summary>Creates the exception with a message.</summary>
    public LockUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the failure that caused it.</summary>
    public LockUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}

namespace Coordination;

/// <summary>
/// A call to a <see cref="SingletonAttribute"/> method did not get its lock within the timeout; the method did
/// not run. <see cref="Key"/> is the expanded lock key, so the message names the contended instance.
/// </summary>
public sealed class SingletonContentionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SingletonContentionException()
        : base("A [Singleton] method did not get its lock.")
    {
        Key = string.Empty;
        Method = string.Empty;
    }

    /// <summary>Creates the exception with a message.</summary>
    public SingletonContentionException(string message)
        : base(message)
    {
        Key = string.Empty;
        Method = string.Empty;
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public SingletonContentionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
        Method = string.Empty;
    }

    /// <summary>Creates the exception for <paramref name="method"/> contending for <paramref name="key"/>.</summary>
    public SingletonContentionException(string key, string method, TimeSpan timeout)
        : base(timeout == TimeSpan.Zero
            ? $"[Singleton] {method} did not run: the lock '{key}' is held by another caller."
            : $"[Singleton] {method} did not run: the lock '{key}' stayed held for {timeout}.")
    {
        Key = key;
        Method = method;
        Timeout = timeout;
    }

    /// <summary>The expanded lock key that was contended.</summary>
    public string Key { get; }

    /// <summary>The marked method, as <c>Type.Method</c>.</summary>
    public string Method { get; }

    /// <summary>How long the call waited.</summary>
    public TimeSpan Timeout { get; }
}

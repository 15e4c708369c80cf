namespace Coordination;

/// <summary>
/// Runs every call to the marked method inside a distributed lock named by <see cref="Key"/>. A source generator
/// rewrites each call site in the consuming project at compile time (C# interceptors), so there is no proxy and
/// no reflection at run time. Calls the compiler cannot see (delegates, reflection, other assemblies built
/// without the generator, virtual dispatch through an unmarked base) run unguarded.
/// </summary>
/// <remarks>
/// The method must return <see cref="Task"/>, <see cref="Task{TResult}"/>, <see cref="ValueTask"/> or
/// <see cref="ValueTask{TResult}"/>. A <see cref="CancellationToken"/> parameter, if present, is linked with the
/// lock's lost-lock signal for the duration of the call.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class SingletonAttribute : Attribute
{
    /// <summary>Marks a method whose calls run one at a time per expanded <paramref name="key"/>.</summary>
    /// <param name="key">
    /// The lock key template; placeholders name parameters (<c>reports:{tenantId}</c>) or members of them
    /// (<c>orders:{order.Id}</c>); <c>{{</c> and <c>}}</c> write literal braces.
    /// </param>
    public SingletonAttribute(string key)
    {
        Key = key;
    }

    /// <summary>The lock key template, expanded from the call's arguments.</summary>
    public string Key { get; }

    /// <summary>
    /// How long a call waits for the lock: a <see cref="TimeSpan"/> string (<c>"00:00:05"</c>; <c>"0"</c> tries once) or
    /// <c>"Infinite"</c>. Unset means wait forever, except with <see cref="SingletonContention.Skip"/>, which then tries once.
    /// </summary>
    public string? Timeout { get; set; }

    /// <summary>What a call gets when the lock is not acquired within the timeout. Throws by default.</summary>
    public SingletonContention OnContention { get; set; } = SingletonContention.Throw;

    /// <summary>
    /// The effective wait timeout from <see cref="Timeout"/> and <see cref="OnContention"/>, for components that read the attribute at run time (filters).
    /// </summary>
    /// <exception cref="FormatException"><see cref="Timeout"/> is not a valid non-negative TimeSpan.</exception>
    public TimeSpan GetWaitTimeout() =>
        Timeout is { } text ? Keys.LockTimeout.Parse(text, $"[Singleton(\"{Key}\")]")
        : OnContention == SingletonContention.Skip ? TimeSpan.Zero
        : System.Threading.Timeout.InfiniteTimeSpan;
}

using System.ComponentModel;
using Coordination.Keys;
using Coordination.Locks;

namespace Coordination.Aspects;

/// <summary>
/// The run-time half of the <see cref="SingletonAttribute"/> / <see cref="DistributedLockAttribute"/> aspect: the lock provider that generated interceptors
/// acquire through, and the helpers they call. The provider is set from the DI container by
/// <c>AddSingletonAspects()</c> when the host starts (or by <c>IServiceProvider.UseSingletonAspects()</c>), and can be
/// set or scoped directly in tests.
/// </summary>
public static class SingletonRuntime
{
    private static readonly AsyncLocal<IDistributedLockProvider?> Scoped = new();
    private static IDistributedLockProvider? _provider;

    /// <summary>
    /// The process-wide lock provider used by <see cref="SingletonAttribute"/> methods, or <see langword="null"/> when none
    /// has been configured yet (calls then fail with <see cref="InvalidOperationException"/>).
    /// </summary>
    public static IDistributedLockProvider? Provider
    {
        get => Volatile.Read(ref _provider);
        set => Volatile.Write(ref _provider, value);
    }

    /// <summary>
    /// Uses <paramref name="provider"/> for marked methods called from the current async flow until the returned scope is
    /// disposed, overriding <see cref="Provider"/>. Meant for tests that run in parallel with different providers.
    /// </summary>
    public static IDisposable UseProvider(IDistributedLockProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var previous = Scoped.Value;
        Scoped.Value = provider;
        return new Restore(previous);
    }

    internal static void ClearProvider(IDistributedLockProvider provider) =>
        Interlocked.CompareExchange(ref _provider, null, provider);

    /// <summary>
    /// Acquires the lock for a call to <paramref name="method"/> (generated code calls this). Returns the scope to
    /// dispose after the call, or <see langword="null"/> when the lock stayed taken and <paramref name="onContention"/>
    /// is <see cref="LockContention.Skip"/> (every other value throws: a direct call can neither be dropped silently
    /// nor rescheduled).
    /// </summary>
    /// <exception cref="SingletonContentionException">The lock stayed taken and the method throws on contention.</exception>
    /// <exception cref="LockUnavailableException">The lock backend cannot decide; the method must not run.</exception>
    /// <exception cref="InvalidOperationException">No lock provider is configured yet.</exception>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ValueTask<SingletonScope?> EnterAsync(string key, TimeSpan timeout, LockContention onContention, string method, CancellationToken cancellationToken) =>
        EnterAsync(key, timeout, onContention, method, 1, LockAccess.Exclusive, cancellationToken);

    /// <summary>
    /// As <see cref="EnterAsync(string, TimeSpan, LockContention, string, CancellationToken)"/>, for a declaration with
    /// <c>MaxConcurrency</c> (a semaphore of that many permits) or <c>Access</c> (the read or write side of a
    /// reader-writer lock).
    /// </summary>
    /// <exception cref="SingletonContentionException">The key stayed taken and the method throws on contention.</exception>
    /// <exception cref="LockUnavailableException">The lock backend cannot decide; the method must not run.</exception>
    /// <exception cref="InvalidOperationException">No lock provider is configured yet.</exception>
    /// <remarks>
    /// Not an async method up to the provider call on purpose: the provider records the acquisition in the caller's
    /// async flow (the generated interceptor), so the guarded method it calls next holds the lock re-entrantly and a
    /// nested [Singleton] call with the same key gets a nested handle instead of waiting for its own caller.
    /// </remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ValueTask<SingletonScope?> EnterAsync(string key, TimeSpan timeout, LockContention onContention, string method, int maxConcurrency, LockAccess access, CancellationToken cancellationToken)
    {
        ValueTask<IDistributedLockHandle?> acquiring;
        try
        {
            ArgumentNullException.ThrowIfNull(key);
            ArgumentNullException.ThrowIfNull(method);
            var provider = Scoped.Value ?? Provider ?? throw new InvalidOperationException(
                $"[Singleton] {method} was called before a lock provider was configured. Register "
                + "services.AddHybridCoordination(...).AddSingletonAspects() and start the host (or call "
                + "serviceProvider.UseSingletonAspects()); tests can set SingletonRuntime.Provider.");
            acquiring = provider.TryAcquireAsync(key, maxConcurrency, access, timeout, cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<SingletonScope?>(ex);
        }

        return ScopeAsync(acquiring, key, timeout, onContention, method);
    }

    private static async ValueTask<SingletonScope?> ScopeAsync(ValueTask<IDistributedLockHandle?> acquiring, string key, TimeSpan timeout, LockContention onContention, string method)
    {
        var handle = await acquiring.ConfigureAwait(false);
        if (handle is null)
        {
            return onContention == LockContention.Skip
                ? null
                : throw new SingletonContentionException(key, method, timeout);
        }

        return new SingletonScope(handle);
    }

    /// <summary>
    /// Formats one placeholder value of a lock key (generated code calls this): strings as they are, formattable values
    /// with the invariant culture. A <see langword="null"/> value throws <see cref="KeyPlaceholderMissingException"/>
    /// naming placeholder number <paramref name="placeholderIndex"/> of <paramref name="template"/>.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static string KeyPart<T>(T value, string template, int placeholderIndex)
    {
        return KeyTemplate.FormatValue(value) ?? throw new KeyPlaceholderMissingException(template, KeyTemplate.Parse(template).Placeholders[placeholderIndex]);
    }

    private sealed class Restore(IDistributedLockProvider? previous) : IDisposable
    {
        public void Dispose() => Scoped.Value = previous;
    }
}

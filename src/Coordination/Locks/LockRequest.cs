using Coordination.Keys;

namespace Coordination.Locks;

/// <summary>
/// Turns the one lock contract's permits and access (<see cref="IDistributedLockMetadata.MaxConcurrency"/>,
/// <see cref="IDistributedLockMetadata.Access"/>) into the acquisition every host makes: the lock, a semaphore permit,
/// or a read or write lock, on the same provider.
/// </summary>
internal static class LockRequest
{
    /// <summary>Checks a declaration's permits and access; <paramref name="declaration"/> names it in the message.</summary>
    /// <exception cref="FormatException">Permits below one, an unknown access, or permits combined with read/write.</exception>
    public static void Validate(int maxConcurrency, LockAccess access, string declaration)
    {
        if (maxConcurrency < 1)
        {
            throw new FormatException($"{declaration} MaxConcurrency {maxConcurrency} must be at least 1 (1 is the lock, N a semaphore of N permits).");
        }

        if (!Enum.IsDefined(access))
        {
            throw new FormatException($"{declaration} Access {access} is not a LockAccess value.");
        }

        if (access != LockAccess.Exclusive && maxConcurrency != 1)
        {
            throw new FormatException($"{declaration} combines Access = {access} with MaxConcurrency {maxConcurrency}; a reader-writer lock has no permit count (use one or the other).");
        }
    }

    /// <summary>Acquires what the declaration asks for on <paramref name="provider"/>; null when it stayed taken.</summary>
    /// <exception cref="InvalidOperationException">The provider does not offer semaphores or reader-writer locks.</exception>
    public static ValueTask<IDistributedLockHandle?> TryAcquireAsync(this IDistributedLockProvider provider, string key, int maxConcurrency, LockAccess access, TimeSpan timeout, CancellationToken cancellationToken) =>
        (maxConcurrency, access) switch
        {
            (1, LockAccess.Exclusive) => provider.TryAcquireAsync(key, timeout, cancellationToken),
            (_, LockAccess.Exclusive) => As<IDistributedSemaphoreProvider>(provider).TryAcquireAsync(key, maxConcurrency, timeout, cancellationToken),
            (_, LockAccess.Read) => As<IDistributedReaderWriterLockProvider>(provider).TryAcquireReadAsync(key, timeout, cancellationToken),
            _ => As<IDistributedReaderWriterLockProvider>(provider).TryAcquireWriteAsync(key, timeout, cancellationToken),
        };

    private static T As<T>(IDistributedLockProvider provider)
        where T : class =>
        provider as T ?? throw new InvalidOperationException($"The lock provider {provider.GetType().Name} does not implement {typeof(T).Name}, which MaxConcurrency or Access needs; use the provider AddHybridCoordination registers.");
}

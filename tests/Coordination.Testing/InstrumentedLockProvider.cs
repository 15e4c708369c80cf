using System.Collections.Concurrent;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Testing;

/// <summary>
/// The one instrumented lock provider of the test projects: it decorates a real provider (exclusion stays that
/// provider's job) to count and record what callers do, inject failures (a backend that cannot decide), and fire the
/// lost-lock signal of held handles on demand. Semaphores and reader-writer locks pass through the same instruments
/// when the decorated provider offers them.
/// </summary>
public sealed class InstrumentedLockProvider(IDistributedLockProvider inner) : IDistributedLockProvider, IDistributedSemaphoreProvider, IDistributedReaderWriterLockProvider
{
    private readonly ConcurrentDictionary<string, Exception> _keyFailures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<InstrumentedLockHandle, byte> _live = new();
    private int _attempts;
    private int _waiting;
    private int _held;
    private int _released;

    /// <summary>The decorated provider.</summary>
    public IDistributedLockProvider Inner => inner;

    /// <summary>Acquisition calls made (including refused ones).</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Calls currently waiting inside the decorated provider.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Locks acquired and not yet released.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Locks released.</summary>
    public int Released => Volatile.Read(ref _released);

    /// <summary>Every grant, in order: key and fencing token.</summary>
    public ConcurrentQueue<(string Key, long Token)> Issued { get; } = new();

    /// <summary>The keys of every grant, in order.</summary>
    public IEnumerable<string> AcquiredKeys => Issued.Select(i => i.Key);

    /// <summary>Keys whose wait was cancelled.</summary>
    public ConcurrentQueue<string> CancelledWaits { get; } = new();

    /// <summary>When set, every acquisition throws it.</summary>
    public Exception? Failure { get; set; }

    /// <summary>Handles granted and not yet released.</summary>
    public IReadOnlyList<InstrumentedLockHandle> Live => [.. _live.Keys];

    /// <summary>A provider decorating a fresh in-process lock provider (no servers).</summary>
    public static InstrumentedLockProvider InProcess()
    {
        var services = new ServiceCollection();
        services.AddHybridCoordination(o => o.Mode = LockMode.InProcess);
        return new InstrumentedLockProvider(services.BuildServiceProvider().GetRequiredService<IDistributedLockProvider>());
    }

    /// <summary>Makes acquisitions of <paramref name="key"/> throw <paramref name="exception"/> (null: stop).</summary>
    public void FailWith(string key, Exception? exception)
    {
        if (exception is null)
        {
            _keyFailures.TryRemove(key, out _);
        }
        else
        {
            _keyFailures[key] = exception;
        }
    }

    /// <summary>Live handles of <paramref name="key"/>.</summary>
    public int LiveHandles(string key) => _live.Keys.Count(h => h.Key == key);

    /// <summary>Fires LostToken on the live handles of <paramref name="key"/>.</summary>
    public void MarkLost(string key)
    {
        foreach (var handle in _live.Keys.Where(h => h.Key == key))
        {
            handle.MarkLost();
        }
    }

    /// <summary>Fires LostToken on every live handle.</summary>
    public void LoseAll()
    {
        foreach (var handle in _live.Keys)
        {
            handle.MarkLost();
        }
    }

    /// <inheritdoc />
    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        InstrumentAsync(key, () => inner.TryAcquireAsync(key, timeout, cancellationToken));

    /// <inheritdoc />
    public ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OrThrowAsync(TryAcquireAsync(key, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken), key);

    /// <inheritdoc />
    public ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, int maxCount, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        InstrumentAsync(key, () => Decorated<IDistributedSemaphoreProvider>().TryAcquireAsync(key, maxCount, timeout, cancellationToken));

    /// <inheritdoc />
    public ValueTask<IDistributedLockHandle> AcquireAsync(string key, int maxCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OrThrowAsync(TryAcquireAsync(key, maxCount, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken), key);

    /// <inheritdoc />
    public ValueTask<IDistributedLockHandle?> TryAcquireReadAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        InstrumentAsync(key, () => Decorated<IDistributedReaderWriterLockProvider>().TryAcquireReadAsync(key, timeout, cancellationToken));

    /// <inheritdoc />
    public ValueTask<IDistributedLockHandle> AcquireReadAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OrThrowAsync(TryAcquireReadAsync(key, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken), key);

    /// <inheritdoc />
    public ValueTask<IDistributedLockHandle?> TryAcquireWriteAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        InstrumentAsync(key, () => Decorated<IDistributedReaderWriterLockProvider>().TryAcquireWriteAsync(key, timeout, cancellationToken));

    /// <inheritdoc />
    public ValueTask<IDistributedLockHandle> AcquireWriteAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OrThrowAsync(TryAcquireWriteAsync(key, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken), key);

    private static async ValueTask<IDistributedLockHandle> OrThrowAsync(ValueTask<IDistributedLockHandle?> acquiring, string key) =>
        await acquiring ?? throw new TimeoutException($"Timed out acquiring '{key}'.");

    private T Decorated<T>()
        where T : class =>
        inner as T ?? throw new NotSupportedException($"The decorated provider {inner.GetType().Name} does not implement {typeof(T).Name}.");

    // Not an async method up to the decorated call: the decorated provider records the acquisition in the caller's
    // async flow, so re-entrancy works through this decorator as it does without it.
    private ValueTask<IDistributedLockHandle?> InstrumentAsync(string key, Func<ValueTask<IDistributedLockHandle?>> acquire)
    {
        Interlocked.Increment(ref _attempts);
        if (Failure is { } failure || _keyFailures.TryGetValue(key, out failure))
        {
            return ValueTask.FromException<IDistributedLockHandle?>(failure);
        }

        Interlocked.Increment(ref _waiting);
        ValueTask<IDistributedLockHandle?> acquiring;
        try
        {
            acquiring = acquire();
        }
        catch (Exception ex)
        {
            acquiring = ValueTask.FromException<IDistributedLockHandle?>(ex);
        }

        return TrackAsync(key, acquiring);
    }

    private async ValueTask<IDistributedLockHandle?> TrackAsync(string key, ValueTask<IDistributedLockHandle?> acquiring)
    {
        IDistributedLockHandle? handle;
        try
        {
            handle = await acquiring;
        }
        catch (OperationCanceledException)
        {
            CancelledWaits.Enqueue(key);
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        if (handle is null)
        {
            return null;
        }

        Issued.Enqueue((key, handle.FencingToken));
        Interlocked.Increment(ref _held);
        var tracked = new InstrumentedLockHandle(handle, this);
        _live[tracked] = 0;
        return tracked;
    }

    internal void OnReleased(InstrumentedLockHandle handle)
    {
        _live.TryRemove(handle, out _);
        Interlocked.Decrement(ref _held);
        Interlocked.Increment(ref _released);
    }
}

using System.Diagnostics;

namespace Coordination.Testing;

/// <summary>Waits for a condition with a deadline instead of sleeping a fixed time.</summary>
public static class Poll
{
    /// <summary>The deadline when a test names none: generous, because CI machines can be heavily loaded; passing tests never wait this long.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, at most <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>);
    /// on timeout the message names <paramref name="what"/> and, when given, <paramref name="detail"/>'s description of the state.
    /// </summary>
    /// <exception cref="TimeoutException">The condition stayed false.</exception>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? detail = null)
    {
        try
        {
            await UntilAsync(condition, timeout ?? DefaultTimeout, what);
        }
        catch (TimeoutException ex) when (detail is not null)
        {
            throw new TimeoutException($"{ex.Message} {detail()}", ex);
        }
    }

    /// <summary>Synchronous-condition overload of <see cref="UntilAsync(Func{Task{bool}}, string, TimeSpan?, Func{string}?)"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<string>? detail = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return UntilAsync(() => Task.FromResult(condition()), what, timeout, detail);
    }

    /// <summary>Blocks (for code that cannot await, e.g. inside a synchronous job) until <paramref name="condition"/> holds or <paramref name="timeout"/> passes.</summary>
    public static bool Within(TimeSpan timeout, Func<bool> condition) => SpinWait.SpinUntil(condition, timeout);

    /// <summary>
    /// Evaluates <paramref name="condition"/> with short delays until it returns true. An exception from the
    /// condition counts as false and is reported if time runs out.
    /// </summary>
    /// <exception cref="TimeoutException">The condition stayed false for <paramref name="timeout"/>; the message names <paramref name="what"/>.</exception>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentException.ThrowIfNullOrEmpty(what);
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(20);
        Exception? last = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (await condition())
                {
                    return;
                }

                last = null;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }

            if (clock.Elapsed >= timeout)
            {
                var because = last is null ? "" : $" (last attempt threw {last.GetType().Name}: {last.Message})";
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting until {what}{because}.", last);
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
        }
    }

    /// <summary>Synchronous-condition overload of <see cref="UntilAsync(Func{Task{bool}}, TimeSpan, string, CancellationToken)"/>.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return UntilAsync(() => Task.FromResult(condition()), timeout, what, cancellationToken);
    }
}

using System.Collections.Concurrent;

namespace Coordination.AspNetCore.Tests.Infrastructure;

/// <summary>
/// Named rendezvous points for handlers: a handler calls <see cref="HoldAsync"/> and stays inside until the test
/// calls <see cref="Release"/>, so tests control exactly when a lock holder finishes, without sleeping.
/// </summary>
public sealed class Gates
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.Ordinal);

    public async Task HoldAsync(string name, CancellationToken cancellationToken)
    {
        var gate = Get(name);
        gate.Entered.TrySetResult();
        try
        {
            // The deadline only turns a broken test into a failure instead of a hang.
            await gate.Released.Task.WaitAsync(Deadline * 2, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            gate.Cancelled.TrySetResult();
            throw;
        }
    }

    public Task WaitEnteredAsync(string name) => Get(name).Entered.Task.WaitAsync(Deadline);

    public Task WaitCancelledAsync(string name) => Get(name).Cancelled.Task.WaitAsync(Deadline);

    public bool WasEntered(string name) => Get(name).Entered.Task.IsCompleted;

    public void Release(string name) => Get(name).Released.TrySetResult();

    /// <summary>Lets every handler out, so an app can shut down after a failed assertion.</summary>
    public void ReleaseAll()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Released.TrySetResult();
        }
    }

    private Gate Get(string name) => _gates.GetOrAdd(name, _ => new Gate());

    private sealed class Gate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

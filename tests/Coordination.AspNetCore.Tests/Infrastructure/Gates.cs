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
            await gate.Released.Task.WaitAsync(cancellationToken);
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

    private Gate Get(string name) => _gates.GetOrAdd(name, _ => new Gate());

    private sealed class Gate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

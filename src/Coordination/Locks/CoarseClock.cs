namespace Coordination.Locks;

/// <summary>
/// One shared timer for many short bounded waits of one length: <see cref="Tick"/> returns a task that completes
/// between one and two periods from now. A timer per wait (<c>Task.WaitAsync(timeout)</c>) costs a timer and a promise
/// on every release; this costs a continuation on a task everyone shares. The timer runs only while waits were asked
/// for in the last two periods.
/// </summary>
internal sealed class CoarseClock(TimeSpan period, TimeProvider time)
{
    private readonly object _gate = new();
    private TaskCompletionSource _next = New();
    private TaskCompletionSource _afterNext = New();
    private ITimer? _timer;
    private bool _askedNow;
    private bool _askedBefore;

    /// <summary>Completes one to two periods from now.</summary>
    public Task Tick()
    {
        lock (_gate)
        {
            _askedNow = true;
            _timer ??= time.CreateTimer(static c => ((CoarseClock)c!).OnTick(), this, period, period);
            return _afterNext.Task;
        }
    }

    private void OnTick()
    {
        TaskCompletionSource due;
        lock (_gate)
        {
            due = _next;
            _next = _afterNext;
            _afterNext = New();
            if (!_askedNow && !_askedBefore)
            {
                // Nobody holds _next or _afterNext (both were handed out in the last two periods, to no one): stop.
                _timer?.Dispose();
                _timer = null;
            }

            _askedBefore = _askedNow;
            _askedNow = false;
        }

        due.TrySetResult();
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

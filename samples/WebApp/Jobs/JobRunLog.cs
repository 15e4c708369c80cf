namespace WebApp.Jobs;

/// <summary>The last jobs this instance ran (GET /api/jobs).</summary>
public sealed class JobRunLog
{
    private const int Capacity = 10;
    private readonly Lock _gate = new();
    private readonly LinkedList<JobRun> _runs = new();

    /// <summary>Records a finished run.</summary>
    public void Add(string job, string instance, long fencingToken)
    {
        lock (_gate)
        {
            _runs.AddFirst(new JobRun(job, instance, fencingToken, DateTimeOffset.UtcNow));
            while (_runs.Count > Capacity)
            {
                _runs.RemoveLast();
            }
        }
    }

    /// <summary>The recorded runs, newest first.</summary>
    public IReadOnlyList<JobRun> Recent()
    {
        lock (_gate)
        {
            return [.. _runs];
        }
    }
}

namespace Coordination.Nemesis;

/// <summary>
/// One grant of the lock as a worker task logged it. <see cref="End"/> is when the task stopped believing it held
/// the lock: the first of release-start, the lost signal, its process being killed, or the end of the run.
/// </summary>
internal sealed record LockHold(string Task, long Token, long Granted, long? ReleaseStart, long? Lost, long End)
{
    public string Worker => Task.Split('.')[0];
}

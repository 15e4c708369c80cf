namespace Coordination.Nemesis;

/// <summary>
/// One grant as a worker task logged it. <see cref="End"/> is when the task stopped believing it held: the first of
/// release-start, the lost signal, its process being killed, or the end of the run. <see cref="Mode"/> says what was
/// granted: <c>x</c> exclusive (lock, election term), <c>w</c>/<c>r</c> write/read of a reader-writer lock, <c>s</c>
/// one of <see cref="Permits"/> permits of a semaphore.
/// </summary>
internal sealed record LockHold(string Task, long Token, long Granted, long? ReleaseStart, long? Lost, long End, string Mode = "x", int Permits = 1)
{
    public string Worker => Task.Split('.')[0];

    /// <summary>Two read holds of a reader-writer lock may overlap; every other pair excludes (semaphores count permits instead).</summary>
    public bool SharesWith(LockHold other) => Mode == "r" && other.Mode == "r";
}

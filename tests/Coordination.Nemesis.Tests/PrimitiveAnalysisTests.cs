namespace Coordination.Nemesis.Tests;

/// <summary>How the analyser judges the semaphore, the reader-writer lock and the election, each on its own lines.</summary>
public sealed class PrimitiveAnalysisTests
{
    [Fact]
    public void Analyse_WhenTwoPermitsOfTwoOverlap_FindsNoViolation()
    {
        var report = new SyntheticLog()
            .Hold("w1.sem.0", 10, 100, 150, "s", 2)
            .Hold("w2.sem.0", 11, 110, 160, "s", 2)
            .Hold("w3.sem.0", 12, 151, 170, "s", 2)
            .Referee(3, NemesisPrimitive.Semaphore)
            .Analyse(primitive: NemesisPrimitive.Semaphore);

        Assert.Empty(report.Violations);
        Assert.True(report.Passed, report.Summary("t"));
    }

    [Fact]
    public void Analyse_WhenAThirdHolderJoinsTwoPermits_ReportsAViolation()
    {
        var report = new SyntheticLog()
            .Hold("w1.sem.0", 10, 100, 150, "s", 2)
            .Hold("w2.sem.0", 11, 110, 160, "s", 2)
            .Hold("w3.sem.0", 12, 120, 170, "s", 2)
            .Referee(3, NemesisPrimitive.Semaphore)
            .Analyse(primitive: NemesisPrimitive.Semaphore);

        Assert.NotEmpty(report.Violations);
        Assert.All(report.Violations, v => Assert.Contains("2 running holders of 2 permits", v, StringComparison.Ordinal));
        Assert.False(report.Passed);
    }

    [Fact]
    public void Analyse_WhenASemaphoreGrantsOneTokenTwice_ReportsIt()
    {
        var report = new SyntheticLog()
            .Hold("w1.sem.0", 10, 100, 110, "s", 2)
            .Hold("w2.sem.0", 10, 120, 130, "s", 2)
            .Referee(2, NemesisPrimitive.Semaphore)
            .Analyse(primitive: NemesisPrimitive.Semaphore);

        Assert.Equal(1, report.TokenOrderViolations);
    }

    [Fact]
    public void Analyse_WhenReadersShare_FindsNoViolation_ButAWriteAmongReadersIsOne()
    {
        var readers = new SyntheticLog()
            .Hold("w1.rw.0", 10, 100, 150, "r")
            .Hold("w2.rw.0", 11, 110, 160, "r")
            .Hold("w3.rw.0", 12, 161, 170, "w")
            .Referee(3, NemesisPrimitive.ReaderWriter)
            .Analyse(primitive: NemesisPrimitive.ReaderWriter);
        var writeAmongReaders = new SyntheticLog()
            .Hold("w1.rw.0", 10, 100, 150, "r")
            .Hold("w3.rw.0", 11, 120, 170, "w")
            .Referee(2, NemesisPrimitive.ReaderWriter)
            .Analyse(primitive: NemesisPrimitive.ReaderWriter);

        Assert.True(readers.Passed, readers.Summary("t"));
        var violation = Assert.Single(writeAmongReaders.Violations);
        Assert.Contains("w3.rw.0 granted token 11 (write) while w1.rw.0 (token 10 (read)", violation, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyse_ReaderWriterTokens_MayInterleaveAmongReadsButNotAroundAWrite()
    {
        var readsOutOfOrder = new SyntheticLog()
            .Hold("w1.rw.0", 11, 100, 150, "r")
            .Hold("w2.rw.0", 10, 101, 160, "r")
            .Hold("w3.rw.0", 12, 161, 170, "w")
            .Hold("w1.rw.1", 13, 171, 180, "r")
            .Referee(4, NemesisPrimitive.ReaderWriter)
            .Analyse(primitive: NemesisPrimitive.ReaderWriter);
        var readBehindAWrite = new SyntheticLog()
            .Hold("w3.rw.0", 12, 100, 110, "w")
            .Hold("w1.rw.0", 11, 120, 130, "r")
            .Referee(2, NemesisPrimitive.ReaderWriter)
            .Analyse(primitive: NemesisPrimitive.ReaderWriter);

        Assert.Equal(0, readsOutOfOrder.TokenOrderViolations);
        Assert.Equal(1, readBehindAWrite.TokenOrderViolations);
    }

    [Fact]
    public void Analyse_JudgesEachPrimitiveOnItsOwnLines()
    {
        // A lock hold and a semaphore permit at the same time are unrelated; each counter is its own.
        var log = new SyntheticLog()
            .Hold("w1.lock.0", 10, 100, 150)
            .Hold("w2.sem.0", 11, 110, 160, "s", 1)
            .Hold("w1.0", 12, 151, 170) // the older source form is the lock
            .Referee(2)
            .Referee(1, NemesisPrimitive.Semaphore);

        var locks = log.Analyse();
        var semaphore = log.Analyse(primitive: NemesisPrimitive.Semaphore);

        Assert.Equal(2, locks.Holds.Count);
        Assert.True(locks.Passed, locks.Summary("t"));
        Assert.Single(semaphore.Holds);
        Assert.True(semaphore.CounterExact);
    }

    [Fact]
    public void Analyse_WhenAnElectionTermOverlapsARunningLeader_ReportsAViolation()
    {
        var report = new SyntheticLog()
            .Hold("w1.elect.0", 10, 100, 150)
            .Hold("w2.elect.0", 11, 120, 160)
            .Referee(2, NemesisPrimitive.Election)
            .Analyse(primitive: NemesisPrimitive.Election);

        Assert.Single(report.Violations);
        Assert.Contains("primitive=elect", report.Summary("t"), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyse_AGrantLoggedBetweenTheKillLineAndTheDeath_EndsWithTheProcess()
    {
        var report = new SyntheticLog()
            .Add(100, NemesisEvent.Orchestrator, "worker-kill", ("worker", "w1"), ("pid", 1))
            .Add(101, "w1.rw.0", "granted", ("token", 10), ("mode", "r"), ("max", 1))
            .Add(103, NemesisEvent.Orchestrator, "worker-dead", ("worker", "w1"), ("pid", 1))
            .Hold("w2.rw.0", 11, 104, 120, "w")
            .Referee(1, NemesisPrimitive.ReaderWriter)
            .Analyse(primitive: NemesisPrimitive.ReaderWriter);

        Assert.Empty(report.Violations);
        Assert.Equal(103, report.Holds[0].End);
    }

    [Fact]
    public void Analyse_AGrantDecidedBeforeAFreezeAndLoggedAfterIt_IsJudgedAsAFrozenHolder()
    {
        // w1 was stopped between its grant and the log line; meanwhile its session expired and w2, w3 took the permits.
        var report = new SyntheticLog()
            .Add(90, "w1.sem.0", "acquire-start")
            .Add(100, NemesisEvent.Orchestrator, "sigstop", ("worker", "w1"), ("pid", 1))
            .Hold("w2.sem.0", 20, 4500, 7000, "s", 2)
            .Hold("w3.sem.0", 21, 4501, 7000, "s", 2)
            .Add(6000, NemesisEvent.Orchestrator, "sigcont", ("worker", "w1"), ("pid", 1))
            .Add(6011, "w1.sem.0", "granted", ("token", 10), ("mode", "s"), ("max", 2))
            .Add(6013, "w1.sem.0", "fenced", ("token", 10), ("seq", 1), ("result", "rejected"))
            .Add(6017, "w1.sem.0", "release-start", ("token", 10))
            .Referee(2, NemesisPrimitive.Semaphore)
            .Analyse(primitive: NemesisPrimitive.Semaphore);
        // The same grant holding on and writing through the fence is not excused.
        var holdingOn = new SyntheticLog()
            .Add(90, "w1.sem.0", "acquire-start")
            .Add(100, NemesisEvent.Orchestrator, "sigstop", ("worker", "w1"), ("pid", 1))
            .Hold("w2.sem.0", 20, 4500, 9000, "s", 2)
            .Hold("w3.sem.0", 21, 4501, 9000, "s", 2)
            .Add(6000, NemesisEvent.Orchestrator, "sigcont", ("worker", "w1"), ("pid", 1))
            .Add(6011, "w1.sem.0", "granted", ("token", 10), ("mode", "s"), ("max", 2))
            .Add(6013, "w1.sem.0", "fenced", ("token", 10), ("seq", 1), ("result", "accepted"))
            .Add(8000, "w1.sem.0", "release-start", ("token", 10))
            .Referee(3, NemesisPrimitive.Semaphore)
            .Analyse(primitive: NemesisPrimitive.Semaphore);

        Assert.Empty(report.Violations);
        Assert.Equal(100, report.Holds.Single(h => h.Task == "w1.sem.0").Granted);
        Assert.Single(report.PausedOverlaps);
        Assert.Contains(holdingOn.Violations, v => v.Contains("paused holder not signalled lost", StringComparison.Ordinal));
    }
}

namespace Coordination.Nemesis.Tests;

public sealed class LogAnalyserTests
{
    [Fact]
    public void Analyse_WhenHoldsFollowEachOther_FindsNoViolationAndAnExactCounter()
    {
        var report = new SyntheticLog()
            .Hold("w1.0", 10, 100, 110)
            .Hold("w2.0", 11, 111, 120)
            .Hold("w1.1", 12, 121, 130)
            .Referee(3)
            .Analyse();

        Assert.Empty(report.Violations);
        Assert.Equal(0, report.TokenOrderViolations);
        Assert.True(report.CounterExact);
        Assert.True(report.Passed);
        Assert.Contains("violations=0", report.Summary("t"), StringComparison.Ordinal);
        Assert.EndsWith("PASS", report.Summary("t"), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyse_NestedAcquiresGrantedAtOnceWithTheHoldersToken_Pass_AndAreCounted()
    {
        var report = new SyntheticLog()
            .Hold("w1.0", 10, 100, 110).Add(101, "w1.0", "nested", ("token", 10), ("nested", 10), ("at-once", 1))
            .Hold("w2.0", 11, 111, 120).Add(112, "w2.0", "nested", ("token", 11), ("nested", 11), ("at-once", 1))
            .Referee(2)
            .Analyse();

        Assert.Empty(report.Violations);
        Assert.Equal(2, report.NestedAcquires);
        Assert.Contains("grants=2 nested=2 violations=0", report.Summary("t"), StringComparison.Ordinal);
        Assert.True(report.Passed);
    }

    [Fact]
    public void Analyse_ANestedAcquireThatWaited_GotAnotherToken_OrFailed_IsAViolation()
    {
        var report = new SyntheticLog()
            .Hold("w1.0", 10, 100, 110).Add(101, "w1.0", "nested", ("token", 10), ("nested", 10), ("at-once", 0))
            .Hold("w2.0", 11, 111, 120).Add(112, "w2.0", "nested", ("token", 11), ("nested", 12), ("at-once", 1))
            .Hold("w1.1", 13, 121, 130).Add(122, "w1.1", "nested-failed", ("token", 13), ("error", "TimeoutException"), ("why", "timed out"))
            .Referee(3)
            .Analyse();

        Assert.Equal(3, report.Violations.Count);
        Assert.Contains(report.Violations, v => v.Contains("w1.0 holding token 10", StringComparison.Ordinal) && v.Contains("after waiting", StringComparison.Ordinal));
        Assert.Contains(report.Violations, v => v.Contains("got token 12", StringComparison.Ordinal));
        Assert.Contains(report.Violations, v => v.Contains("failed (TimeoutException", StringComparison.Ordinal));
        Assert.False(report.Passed);
    }

    [Fact]
    public void Analyse_WhenARunningHolderOverlapsTheNextGrant_ReportsAViolation()
    {
        var report = new SyntheticLog()
            .Hold("w1.0", 10, 100, 150)
            .Hold("w2.0", 11, 120, 160)
            .Referee(2)
            .Analyse();

        var violation = Assert.Single(report.Violations);
        Assert.Contains("w2.0 granted token 11 while w1.0", violation, StringComparison.Ordinal);
        Assert.False(report.Passed);
    }

    [Fact]
    public void Analyse_WhenTwoTasksOfOneProcessOverlap_ReportsAViolation()
    {
        var report = new SyntheticLog().Hold("w1.0", 10, 100, 150).Hold("w1.1", 11, 120, 160).Referee(2).Analyse();

        Assert.Single(report.Violations);
    }

    [Fact]
    public void Analyse_WhenTheHolderWasSignalledLostBeforeTheNextGrant_IsNotAViolation()
    {
        var report = new SyntheticLog()
            .Add(118, "w1.0", "lost", ("token", 10))
            .Hold("w1.0", 10, 100, 150)
            .Hold("w2.0", 11, 120, 160)
            .Referee(2)
            .Analyse();

        Assert.Empty(report.Violations);
    }

    [Fact]
    public void Analyse_WhenTheLostSignalCameAfterTheNextGrant_ReportsAViolation()
    {
        var report = new SyntheticLog()
            .Add(121, "w1.0", "lost", ("token", 10))
            .Hold("w1.0", 10, 100, 150)
            .Hold("w2.0", 11, 120, 160)
            .Referee(2)
            .Analyse();

        Assert.Single(report.Violations);
    }

    [Fact]
    public void Analyse_WhenAKilledHoldersProcessDiedBeforeTheNextGrant_IsNotAViolation()
    {
        var report = new SyntheticLog()
            .Add(100, "w1.0", "granted", ("token", 10))
            .Add(105, NemesisEvent.Orchestrator, "worker-kill", ("worker", "w1"), ("pid", 1))
            .Hold("w2.0", 11, 4200, 4210)
            .Referee(1)
            .Analyse();

        Assert.Empty(report.Violations);
    }

    [Fact]
    public void Analyse_WhenAFrozenHolderIsToldSoonAfterResuming_ReportsAPausedOverlapNotAViolation()
    {
        var report = new SyntheticLog()
            .Add(100, "w1.0", "granted", ("token", 10))
            .Add(110, NemesisEvent.Orchestrator, "sigstop", ("worker", "w1"), ("pid", 1))
            .Hold("w2.0", 11, 4500, 4510)
            .Add(6000, NemesisEvent.Orchestrator, "sigcont", ("worker", "w1"), ("pid", 1))
            .Hold("w2.1", 12, 6020, 6030) // granted while w1.0 runs again but has not learnt it yet
            .Add(6080, "w1.0", "lost", ("token", 10))
            .Add(6090, "w1.0", "fenced", ("token", 10), ("seq", 1), ("result", "rejected"))
            .Add(6100, "w1.0", "release-start", ("token", 10))
            .Referee(2)
            .Analyse();

        Assert.Empty(report.Violations);
        var paused = Assert.Single(report.PausedOverlaps);
        Assert.Contains("2 grants went to others; lost signal 80 ms after SIGCONT, the task ran again 90 ms after SIGCONT; its fenced write after the freeze: rejected", paused, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyse_WhenAResumedHolderIsNeverSignalledLost_AndHoldsPastTheBound_ReportsAViolation()
    {
        var report = new SyntheticLog()
            .Add(100, "w1.0", "granted", ("token", 10))
            .Add(110, NemesisEvent.Orchestrator, "sigstop", ("worker", "w1"), ("pid", 1))
            .Hold("w2.0", 11, 4500, 4510)
            .Add(6000, NemesisEvent.Orchestrator, "sigcont", ("worker", "w1"), ("pid", 1))
            .Add(6010, "w1.0", "rmw", ("token", 10), ("t0", 6005), ("read", 3)) // running, acting on the lock
            .Add(8500, "w1.0", "release-start", ("token", 10)) // past the 2 s bound
            .Referee(1)
            .Analyse();

        Assert.Contains(report.Violations, v => v.Contains("paused holder not signalled lost", StringComparison.Ordinal));
    }

    [Fact]
    public void Analyse_WhenAResumedTaskIsScheduledLate_ItsBoundStartsWhenItRunsAgain()
    {
        // Every timer of the freeze falls due at SIGCONT; this task's continuation ran a second later, was told at once.
        var report = new SyntheticLog()
            .Add(100, "w1.0", "granted", ("token", 10))
            .Add(110, NemesisEvent.Orchestrator, "sigstop", ("worker", "w1"), ("pid", 1))
            .Hold("w2.0", 11, 4500, 4510)
            .Add(6000, NemesisEvent.Orchestrator, "sigcont", ("worker", "w1"), ("pid", 1))
            .Add(6005, "w1.1", "acquire-start") // another task of the process ran at once
            .Add(7018, "w1.0", "lost", ("token", 10))
            .Add(7020, "w1.0", "rmw", ("token", 10), ("t0", 7012), ("read", 3))
            .Add(7022, "w1.0", "fenced", ("token", 10), ("seq", 1), ("result", "rejected"))
            .Add(7030, "w1.0", "release-start", ("token", 10))
            .Referee(1)
            .Analyse();

        Assert.Empty(report.Violations);
        Assert.Contains("the task ran again 1012 ms after SIGCONT (its process after 5 ms)", Assert.Single(report.PausedOverlaps), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyse_AFencedWriteAcceptedBeforeTheFreeze_DoesNotCountAgainstTheResumedHolder()
    {
        var report = new SyntheticLog()
            .Add(100, "w1.sem.0", "granted", ("token", 10), ("mode", "s"), ("max", 1))
            .Add(105, "w1.sem.0", "fenced", ("token", 10), ("seq", 1), ("result", "accepted"))
            .Add(110, NemesisEvent.Orchestrator, "sigstop", ("worker", "w1"), ("pid", 1))
            .Hold("w2.sem.0", 11, 4500, 4510, "s", 1)
            .Add(6000, NemesisEvent.Orchestrator, "sigcont", ("worker", "w1"), ("pid", 1))
            .Add(6011, "w1.sem.0", "release-start", ("token", 10))
            .Referee(2, NemesisPrimitive.Semaphore)
            .Analyse(primitive: NemesisPrimitive.Semaphore);

        Assert.Empty(report.Violations);
        Assert.Contains("its fenced write after the freeze: none", Assert.Single(report.PausedOverlaps), StringComparison.Ordinal);
    }

    // w1 holds token 10 and is frozen while w2 holds; resumed, w1's fenced write is answered (result), then w1 releases
    // before it is told; the write was sent at 105 ms (before the SIGSTOP) or, if not, when its reply came.
    private static AnalysisReport ResumedHolderWritesThenReleases(string result, bool sentBeforeTheFreeze)
    {
        var log = new SyntheticLog().Add(100, "w1.0", "granted", ("token", 10));
        if (sentBeforeTheFreeze)
        {
            log.Add(105, "w1.0", "fenced-start", ("token", 10), ("seq", 1));
        }

        return log
            .Add(110, NemesisEvent.Orchestrator, "sigstop", ("worker", "w1"), ("pid", 1))
            .Hold("w2.0", 11, 4500, 4510)
            .Add(6000, NemesisEvent.Orchestrator, "sigcont", ("worker", "w1"), ("pid", 1))
            .Add(6010, "w1.0", "fenced", ("token", 10), ("seq", 1), ("result", result))
            .Add(6020, "w1.0", "release-start", ("token", 10))
            .Referee(result == "accepted" ? 2 : 1)
            .Analyse();
    }

    [Fact]
    public void Analyse_WhenAResumedHolderReleasesBeforeItIsTold_AndTheFenceRefusedItsWrite_ReportsOnlyAPausedOverlap()
    {
        var report = ResumedHolderWritesThenReleases("rejected", sentBeforeTheFreeze: false);

        Assert.Empty(report.Violations);
        Assert.Single(report.PausedOverlaps);
    }

    [Fact]
    public void Analyse_WhenAResumedHolderReleasesBeforeItIsTold_ButItsFencedWriteWasAccepted_ReportsAViolation()
    {
        var report = ResumedHolderWritesThenReleases("accepted", sentBeforeTheFreeze: false);

        Assert.Contains(report.Violations, v => v.Contains("paused holder not signalled lost", StringComparison.Ordinal));
    }

    [Fact]
    public void Analyse_WhenAFencedWriteSentBeforeTheFreezeIsAnsweredAfterIt_DoesNotCountItAsMadeAfterTheFreeze()
    {
        // Seen in a clean-clone run: the script reached Redis while the holder still held; only its reply came after SIGCONT.
        var report = ResumedHolderWritesThenReleases("accepted", sentBeforeTheFreeze: true);

        Assert.Empty(report.Violations);
        Assert.Contains("its fenced write after the freeze: none", Assert.Single(report.PausedOverlaps), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyse_WhenAResumedHolderIsToldTooLate_ReportsAViolationForTheGrantsAfterTheBound()
    {
        var report = new SyntheticLog()
            .Add(100, "w1.0", "granted", ("token", 10))
            .Add(110, NemesisEvent.Orchestrator, "sigstop", ("worker", "w1"), ("pid", 1))
            .Add(6000, NemesisEvent.Orchestrator, "sigcont", ("worker", "w1"), ("pid", 1))
            .Hold("w2.0", 11, 8500, 8510)
            .Add(9000, "w1.0", "lost", ("token", 10)) // 3 s after SIGCONT: past the 2 s bound
            .Add(9100, "w1.0", "release-start", ("token", 10))
            .Referee(1)
            .Analyse();

        Assert.Contains(report.Violations, v => v.Contains("w2.0 granted token 11 while w1.0", StringComparison.Ordinal));
    }

    [Fact]
    public void Analyse_WhenATokenIsNotAboveThePreviousGrants_ReportsTokenOrder()
    {
        var report = new SyntheticLog()
            .Hold("w1.0", 10, 100, 110)
            .Hold("w2.0", 9, 120, 130)
            .Hold("w1.0", 11, 140, 150)
            .Referee(3)
            .Analyse();

        Assert.Equal(1, report.TokenOrderViolations);
        Assert.False(report.SafetyPassed);
    }

    [Theory]
    [InlineData(2, false)] // the referee lost an accepted increment
    [InlineData(4, false)] // the referee counted one nobody logged
    public void Analyse_WhenTheRefereeCountDisagreesWithTheLogs_FailsTheCounter(long referee, bool consistent)
    {
        var report = new SyntheticLog().Hold("w1.0", 10, 100, 110).Hold("w2.0", 11, 120, 130).Hold("w1.0", 12, 140, 150).Referee(referee).Analyse();

        Assert.Equal(consistent, report.CounterConsistent);
        Assert.False(report.Passed);
    }

    [Fact]
    public void Analyse_WhenAFencedCallNeverAnswered_AllowsItEitherWay()
    {
        var log = new SyntheticLog()
            .Hold("w1.0", 10, 100, 110)
            .Add(120, "w2.0", "granted", ("token", 11))
            .Add(121, "w2.0", "fenced-start", ("token", 11), ("seq", 1))
            .Add(122, NemesisEvent.Orchestrator, "worker-kill", ("worker", "w2"), ("pid", 2));

        Assert.True(log.Referee(2).Analyse().CounterConsistent);
        Assert.False(log.Referee(2).Analyse().CounterExact);
    }

    [Fact]
    public void Analyse_MeasuresRecoveryFromEachFaultsEndToTheNextGrant()
    {
        var report = new SyntheticLog()
            .Hold("w1.0", 10, 100, 110)
            .Fault(1, "quorum-loss", 200, 3000)
            .Hold("w2.0", 11, 3250, 3260)
            .Fault(2, "quorum-loss", 4000, 5000)
            .Hold("w1.0", 12, 5100, 5110)
            .Fault(3, "leader-stop", 6000, 7000)
            .Hold("w1.0", 13, 7400, 7410)
            .Referee(4)
            .Analyse();

        Assert.Equal([250L, 100L, 400L], report.Faults.Select(f => f.Recovery!.Value));
        Assert.Equal(0, report.Wedged);
        Assert.Contains("| quorum-loss | 2 | 2 | 0.10 s | 0.25 s | 0 |", report.Table(), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyse_WhenNoGrantFollowsAFaultWithinTheBound_ReportsAWedgedKey()
    {
        var report = new SyntheticLog()
            .Hold("w1.0", 10, 100, 110)
            .Fault(1, "quorum-loss", 200, 3000)
            .Hold("w2.0", 11, 20_000, 20_010)
            .Fault(2, "redis-flush", 21_000, 21_001)
            .Referee(2)
            .Analyse(wedgeBoundSeconds: 15);

        Assert.Equal(2, report.Wedged);
        Assert.True(report.SafetyPassed);
        Assert.False(report.Passed);
        Assert.Contains("wedged-quorum-loss=1", report.Summary("t"), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyse_CountsInterleavedUnfencedWritesThatReadTheSameValue()
    {
        var report = new SyntheticLog()
            .Add(105, "w1.0", "rmw", ("token", 10), ("t0", 100), ("read", 7))
            .Add(106, "w2.0", "rmw", ("token", 11), ("t0", 101), ("read", 7))
            .Add(205, "w1.0", "rmw", ("token", 12), ("t0", 200), ("read", 8))
            .Referee(0)
            .Analyse();

        Assert.Equal(1, report.UnfencedLostUpdates);
        Assert.Equal(3, report.UnfencedWrites);
    }

    [Fact]
    public void Parse_SkipsATornLastLine()
    {
        var events = NemesisEvent.ParseLines(["5\tw1.0\tgranted\ttoken=3", "6\tw1.0\trelease-start\ttok"]).ToList();

        Assert.Equal(3, Assert.Single(events).LongField("token"));
    }
}

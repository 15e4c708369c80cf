using Coordination.Locks;
using Coordination.Testing;
using Microsoft.Extensions.Logging;

namespace Coordination.Tests.Locks;

/// <summary>The re-entrancy half of the conformance suite: locks are re-entrant per async flow in every mode.</summary>
public abstract partial class LockConformanceTests
{
    [Fact]
    public async Task Reacquire_InTheSameFlow_IsANestedHandle_WithTheSameTokenAndLostToken_AndTheOutermostDisposeReleases()
    {
        var node = NewNode();
        var key = Key();
        var outer = await node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(10));

        // Granted at once whatever the wait (try-once, bounded, infinite), without queueing behind the flow's own lock.
        var tryOnce = node.Locks.TryAcquireAsync(key);
        var forever = node.Locks.AcquireAsync(key);
        Assert.True(tryOnce.IsCompletedSuccessfully && forever.IsCompletedSuccessfully, "nested acquisitions complete at once");
        var nested = (await tryOnce)!;
        var nested2 = await forever;
        foreach (var n in new[] { nested, nested2 })
        {
            Assert.Equal(outer.Key, n.Key);
            Assert.Equal(outer.FencingToken, n.FencingToken);
            Assert.Equal(outer.LostToken, n.LostToken);
            Assert.Equal(outer.AcquiredAt, n.AcquiredAt);
            Assert.Equal(Mode, n.Mode);
        }

        await nested2.DisposeAsync();
        await nested.DisposeAsync();
        await nested.DisposeAsync(); // counts once
        Assert.Null(await OtherFlow.Run(() => node.Locks.TryAcquireAsync(key)));

        await outer.DisposeAsync();
        await using var next = await OtherFlow.Run(() => node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(10)));
        Assert.True(next.FencingToken > outer.FencingToken);
        await AssertNothingLeftAfterAsync(next, key, node);
    }

    [Fact]
    public async Task OuterDisposedBeforeNested_KeepsTheLock_UntilTheLastHandle_InAnyOrder()
    {
        var node = NewNode();
        var key = Key();
        var outer = await node.Locks.AcquireAsync(key);
        var first = await node.Locks.AcquireAsync(key);
        var second = await node.Locks.AcquireAsync(key);

        await outer.DisposeAsync();
        Assert.Null(await OtherFlow.Run(() => node.Locks.TryAcquireAsync(key)));

        // The flow still holds the lock through its nested handles, so it may nest again.
        await using (var third = await node.Locks.TryAcquireAsync(key))
        {
            Assert.Equal(outer.FencingToken, third!.FencingToken);
        }

        await first.DisposeAsync();
        Assert.Null(await OtherFlow.Run(() => node.Locks.TryAcquireAsync(key)));
        await second.DisposeAsync();
        await using var next = await OtherFlow.Run(() => node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(10)));
        Assert.True(next.FencingToken > outer.FencingToken);
    }

    [Fact]
    public async Task TaskRun_InheritsTheFlowsLocks_AndSuppressFlow_OptsOut()
    {
        var node = NewNode();
        var key = Key();
        await using var outer = await node.Locks.AcquireAsync(key);

        // A fork made while the lock is held is part of the flow: it nests.
        await using (var forked = await Task.Run(async () => await node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(5))))
        {
            Assert.Equal(outer.FencingToken, forked.FencingToken);
        }

        // A fork started with the flow suppressed is another caller: excluded.
        Task<IDistributedLockHandle?> suppressed;
        using (ExecutionContext.SuppressFlow())
        {
            suppressed = Task.Run(async () => await node.Locks.TryAcquireAsync(key));
        }

        Assert.Null(await suppressed);

        // Siblings forked before the flow held anything are other flows: each takes the lock on its own.
        var siblings = await OtherFlow.Run(async Task<int> () =>
        {
            var inside = 0;
            var max = 0;
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var tasks = Enumerable.Range(0, 3).Select(async _ =>
            {
                await gate.Task;
                await using var h = await node.Locks.AcquireAsync(key + ":siblings", TimeSpan.FromSeconds(30));
                await using var n = await node.Locks.AcquireAsync(key + ":siblings", TimeSpan.FromSeconds(30));
                InterlockedMax(ref max, Interlocked.Increment(ref inside));
                await Task.Delay(20);
                Interlocked.Decrement(ref inside);
            }).ToList();
            gate.SetResult();
            await Task.WhenAll(tasks);
            return max;
        });
        Assert.Equal(1, siblings);
    }

    [Fact]
    public async Task WriteHolder_MayTakeTheReadLock_Nested_AndReadHolders_NestAheadOfAWaitingWriter()
    {
        var node = NewNode();
        var key = Key();
        var write = await node.ReaderWriter.AcquireWriteAsync(key);
        var read = node.ReaderWriter.TryAcquireReadAsync(key);
        Assert.True(read.IsCompletedSuccessfully, "nested, no remote work");
        var nestedRead = (await read)!;
        Assert.Equal(write.FencingToken, nestedRead.FencingToken);
        await using (var nestedWrite = await node.ReaderWriter.AcquireWriteAsync(key))
        {
            Assert.Equal(write.FencingToken, nestedWrite.FencingToken);
        }

        await write.DisposeAsync();
        Assert.Null(await OtherFlow.Run(() => node.ReaderWriter.TryAcquireReadAsync(key))); // still held by the nested read
        await nestedRead.DisposeAsync();

        // A read holder nests even while a writer of another flow waits behind it (FIFO would queue a new reader).
        var r1 = await node.ReaderWriter.AcquireReadAsync(key, TimeSpan.FromSeconds(10));
        var writing = OtherFlow.Run(() => node.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(30)));
        await Task.Delay(100);
        await using (var r2 = await node.ReaderWriter.TryAcquireReadAsync(key))
        {
            Assert.Equal(r1.FencingToken, r2!.FencingToken);
        }

        Assert.False(writing.IsCompleted);
        await r1.DisposeAsync();
        await using var w2 = await writing.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(w2.FencingToken > r1.FencingToken);
    }

    [Fact]
    public async Task SemaphorePermits_AreNotReentrant_EachAcquireTakesAPermit()
    {
        var node = NewNode();
        var key = Key();
        await using var a = await node.Semaphores.AcquireAsync(key, 2);
        await using var b = await node.Semaphores.TryAcquireAsync(key, 2, TimeSpan.FromSeconds(10));
        Assert.NotNull(b);
        Assert.NotEqual(a.FencingToken, b.FencingToken);
        Assert.Null(await node.Semaphores.TryAcquireAsync(key, 2));
        Assert.Null(await OtherFlow.Run(() => node.Semaphores.TryAcquireAsync(key, 2)));
    }

    [Fact]
    public async Task WithReentrancyOff_ASameFlowReacquire_FailsAtOnce_WithLockRecursionException()
    {
        var node = NewNode(o => o.ReentrantLocks = false);
        var key = Key();
        var held = await node.Locks.AcquireAsync(key);
        var again = node.Locks.AcquireAsync(key);
        var tryAgain = node.Locks.TryAcquireAsync(key, TimeSpan.FromSeconds(30));
        Assert.True(again.IsFaulted && tryAgain.IsFaulted, "refused at once, not after a wait");
        var ex = await Assert.ThrowsAsync<LockRecursionException>(async () => await again);
        await Assert.ThrowsAsync<LockRecursionException>(async () => await tryAgain);
        Assert.Contains("'" + key + "'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ReentrantLocks", ex.Message, StringComparison.Ordinal);

        var write = await node.ReaderWriter.AcquireWriteAsync(key);
        await Assert.ThrowsAsync<LockRecursionException>(async () => await node.ReaderWriter.TryAcquireReadAsync(key));
        await write.DisposeAsync();

        // Other flows are still excluded; after the release the flow may take the lock again.
        Assert.Null(await OtherFlow.Run(() => node.Locks.TryAcquireAsync(key)));
        await held.DisposeAsync();
        await using var next = await node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(10));
        Assert.True(next.FencingToken > held.FencingToken);
    }

    [Fact]
    public async Task ADeadlockOfTwoFlows_IsLoggedAndListed_NamingBothKeysAndHolders()
    {
        var logs = new CapturingLoggerProvider();
        var node = NewNode(o => o.LongWaitWarningAfter = TimeSpan.FromMilliseconds(200), logs);
        var inspector = (ILockInspector)node.Services.GetService(typeof(ILockInspector))!;
        var a = Key();
        var b = Key();
        using var stop = new CancellationTokenSource();
        var bothHold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = 0;

        async Task TakeBothAsync(string first, string second)
        {
            await using var h = await node.Locks.AcquireAsync(first);
            if (Interlocked.Increment(ref holding) == 2)
            {
                bothHold.SetResult();
            }

            await bothHold.Task;
            await using var never = await node.Locks.AcquireAsync(second, cancellationToken: stop.Token); // waits forever
        }

        var one = OtherFlow.Run(() => TakeBothAsync(a, b));
        var two = OtherFlow.Run(() => TakeBothAsync(b, a));
        await bothHold.Task.WaitAsync(TimeSpan.FromSeconds(30)); // from here on, the only waits are the deadlocked ones
        bool Deadlocked(LockWaitInfo w) => w.HeldByWaiter.Count == 1 && w.Holder is not null;
        await Poll.UntilAsync(() => inspector.GetLongWaits().Count(Deadlocked) == 2, "both waits listed as long, with their holders", detail: () => string.Join(" | ", inspector.GetLongWaits()) + " | " + string.Join(" | ", logs.Entries));
        var waitForB = Assert.Single(inspector.GetLongWaits(), w => w.Key == b);
        Assert.Equal("lock", waitForB.Primitive);
        Assert.Null(waitForB.Timeout);
        Assert.Equal(["lock '" + a + "'"], waitForB.HeldByWaiter);
        Assert.All(inspector.GetLongWaits(), w => Assert.Contains("deadlock", w.Holder!, StringComparison.Ordinal));

        // The warning names the key waited for, what the waiter holds, and who holds the key (and what that flow waits for).
        var expected = "'" + b + "' (timeout infinite) while holding lock '" + a + "'";
        await Poll.UntilAsync(() => logs.Entries.Any(e => e.EventId.Id == 2110 && e.Message.Contains(expected, StringComparison.Ordinal)), "the long-wait warning");
        var warning = logs.Entries.First(e => e.EventId.Id == 2110 && e.Message.Contains(expected, StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("this process", warning.Message, StringComparison.Ordinal);
        Assert.Contains("waits for lock '" + a + "', which the waiting flow holds: a deadlock", warning.Message, StringComparison.Ordinal);

        // Cancelling breaks the deadlock: a cancelled flow releases its first key, which the other flow may be granted
        // before its own cancellation lands, so at least one of them (not necessarily both) ends cancelled.
        await stop.CancelAsync();
        static Exception? Outcome(Task t) => t.IsCanceled ? new OperationCanceledException() : t.Exception?.InnerException;
        var outcomes = await Task.WhenAll(one.ContinueWith(Outcome, TaskScheduler.Default), two.ContinueWith(Outcome, TaskScheduler.Default));
        Assert.Contains(outcomes, e => e is OperationCanceledException);
        Assert.All(outcomes, e => Assert.True(e is null or OperationCanceledException, e?.ToString()));
        Assert.Empty(inspector.GetLongWaits());
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2111 && e.Message.Contains("not granted", StringComparison.Ordinal));
    }

    /// <summary>Releases <paramref name="handle"/> and checks the backend is clean again.</summary>
    private async Task AssertNothingLeftAfterAsync(IDistributedLockHandle handle, string key, LockNode node)
    {
        await handle.DisposeAsync();
        await AssertNothingLeftAsync(key, node);
    }
}

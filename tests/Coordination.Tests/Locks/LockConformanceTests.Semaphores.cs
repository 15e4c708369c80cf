using Coordination.Testing;
using Coordination.Locks;

namespace Coordination.Tests.Locks;

/// <summary>The semaphore half of the conformance suite: every mode runs it.</summary>
public abstract partial class LockConformanceTests
{
    [Fact]
    public async Task Semaphore_GrantsMaxCountHolders_AndTheNextTryReturnsNull_UntilOneReleases()
    {
        var one = NewNode();
        var nodes = Distributed ? new[] { one, NewNode(), NewNode() } : [one, one, one];
        var key = Key();
        var a = await nodes[0].Semaphores.TryAcquireAsync(key, 3);
        var b = await nodes[1].Semaphores.TryAcquireAsync(key, 3);
        var c = await nodes[2].Semaphores.TryAcquireAsync(key, 3);
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.NotNull(c);
        Assert.Equal(Mode, a.Mode);
        Assert.Equal(key, a.Key);
        Assert.Equal(3, new[] { a.FencingToken, b.FencingToken, c.FencingToken }.Distinct().Count());
        Assert.Null(await nodes[0].Semaphores.TryAcquireAsync(key, 3));
        Assert.Null(await nodes[1].Semaphores.TryAcquireAsync(key, 3, TimeSpan.FromMilliseconds(150)));

        // The lock of the same key is another primitive: not blocked by the semaphore, nor is a lock key that looks
        // like the semaphore's entry in the per-process queue.
        await using (var mutex = await nodes[0].Locks.TryAcquireAsync(key))
        {
            Assert.NotNull(mutex);
        }

        await using (var lookalike = await nodes[0].Locks.TryAcquireAsync("sem:" + key))
        {
            Assert.NotNull(lookalike);
        }

        await b.DisposeAsync();
        await using var d = await nodes[1].Semaphores.TryAcquireAsync(key, 3, TimeSpan.FromSeconds(10));
        Assert.NotNull(d);
        Assert.True(d.FencingToken > c.FencingToken);
        await a.DisposeAsync();
        await c.DisposeAsync();
    }

    [Fact]
    public async Task Semaphore_ManyTasks_OnSeveralNodes_NeverExceedMaxCount_AndReachIt()
    {
        var nodes = Distributed ? new[] { NewNode(), NewNode(), NewNode() } : [NewNode()];
        var key = Key();
        const int Permits = 3;
        var inside = 0;
        var maxInside = 0;
        var tokens = new HashSet<long>();
        await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            var node = nodes[i % nodes.Length];
            for (var j = 0; j < 5; j++)
            {
                await using var h = await node.Semaphores.AcquireAsync(key, Permits, TimeSpan.FromSeconds(60));
                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref maxInside, now);
                lock (tokens)
                {
                    Assert.True(tokens.Add(h.FencingToken), $"token {h.FencingToken} granted twice");
                }

                await Task.Delay(15); // the work: holders overlap, so the permit count is reached
                Interlocked.Decrement(ref inside);
            }
        }));
        Assert.Equal(Permits, maxInside);
        Assert.Equal(60, tokens.Count);
    }

    [Fact]
    public async Task Semaphore_Waiter_IsGranted_WhenAnyHolderReleases_NotOnlyTheFirst()
    {
        var a = NewNode();
        var b = Distributed ? NewNode() : a;
        var c = Distributed ? NewNode() : a;
        var key = Key();
        await using var first = await a.Semaphores.AcquireAsync(key, 2);
        var second = await b.Semaphores.AcquireAsync(key, 2);
        var waiting = c.Semaphores.AcquireAsync(key, 2, TimeSpan.FromSeconds(30)).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);

        // The later holder leaves while the first stays: the waiter must wake on it (a watch on the first node
        // alone would leave this permit idle until the first holder released).
        await second.DisposeAsync();
        await using var third = await waiting.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(third.FencingToken > second.FencingToken);
        Assert.False(first.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task Semaphore_WithAnotherMaxCount_ForAKeyInUse_IsAClearError()
    {
        var a = NewNode();
        var b = Distributed ? NewNode() : a;
        var key = Key();
        var h = await a.Semaphores.AcquireAsync(key, 2);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () => await b.Semaphores.TryAcquireAsync(key, 5, TimeSpan.FromSeconds(2)));
        Assert.Contains("maxCount 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("maxCount 5", ex.Message, StringComparison.Ordinal);
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);

        // The refused caller left nothing behind: the second permit is still free.
        await using (var second = await b.Semaphores.TryAcquireAsync(key, 2, TimeSpan.FromSeconds(5)))
        {
            Assert.NotNull(second);
        }

        // Once no one holds or waits, the key may change its count.
        await h.DisposeAsync();
        await using var changed = await TryUntilGrantedAsync(() => b.Semaphores.TryAcquireAsync(key, 5, TimeSpan.FromSeconds(1)));
        Assert.NotNull(changed);
    }

    [Fact]
    public async Task Semaphore_BadArguments_AreRejected_WithClearMessages()
    {
        var node = NewNode();
        var zero = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await node.Semaphores.TryAcquireAsync("k", 0));
        Assert.Contains("maxCount 0", zero.Message, StringComparison.Ordinal);
        Assert.Equal("maxCount", zero.ParamName);
        await Assert.ThrowsAsync<ArgumentException>(async () => await node.Semaphores.TryAcquireAsync("", 2));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await node.Semaphores.TryAcquireAsync("k", 2, TimeSpan.FromSeconds(-2)));
        var key = Key();
        await using var h = await node.Semaphores.AcquireAsync(key, 1);
        var timeout = await Assert.ThrowsAsync<TimeoutException>(async () => await node.Semaphores.AcquireAsync(key, 1, TimeSpan.FromMilliseconds(100)));
        Assert.Contains("semaphore '" + key + "'", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Semaphore_CancellationWhileWaiting_Throws_AndLeavesThePermitFree()
    {
        var a = NewNode();
        var b = Distributed ? NewNode() : a;
        var key = Key();
        var h = await a.Semaphores.AcquireAsync(key, 1);
        using var cts = new CancellationTokenSource();
        var waiting = b.Semaphores.AcquireAsync(key, 1, TimeSpan.FromSeconds(30), cts.Token).AsTask();
        await Task.Delay(100);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await h.DisposeAsync();
        await using var next = await TryUntilGrantedAsync(() => a.Semaphores.TryAcquireAsync(key, 1, TimeSpan.FromSeconds(1)));
        Assert.NotNull(next);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>Retries a bounded try until it grants (a release finishes in the background in the remote modes).</summary>
    private static async Task<IDistributedLockHandle> TryUntilGrantedAsync(Func<ValueTask<IDistributedLockHandle?>> attempt)
    {
        IDistributedLockHandle? granted = null;
        await Poll.UntilAsync(async () => (granted = await attempt()) is not null, "granted");
        return granted!;
    }
}

using Coordination.Locks;
using Coordination.Testing;

namespace Coordination.Tests.Locks;

/// <summary>The reader-writer half of the conformance suite: every mode runs it.</summary>
public abstract partial class LockConformanceTests
{
    [Fact]
    public async Task ReadLocks_AreShared_AndAWriterExcludesReadersAndWriters()
    {
        var a = NewNode();
        var b = Distributed ? NewNode() : a;
        var key = Key();
        var r1 = await a.ReaderWriter.TryAcquireReadAsync(key);
        var r2 = await OtherFlow.Run(() => b.ReaderWriter.TryAcquireReadAsync(key));
        Assert.NotNull(r1);
        Assert.NotNull(r2);
        Assert.Equal(Mode, r1.Mode);
        Assert.Null(await OtherFlow.Run(() => b.ReaderWriter.TryAcquireWriteAsync(key)));
        Assert.Null(await OtherFlow.Run(() => a.ReaderWriter.TryAcquireWriteAsync(key, TimeSpan.FromMilliseconds(150))));

        var writing = OtherFlow.Run(() => b.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(30)));
        await r1.DisposeAsync();
        await Task.Delay(50);
        Assert.False(writing.IsCompleted);
        await r2.DisposeAsync();
        var w = await writing.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(w.FencingToken > r2.FencingToken);
        Assert.Null(await a.ReaderWriter.TryAcquireReadAsync(key));
        Assert.Null(await a.ReaderWriter.TryAcquireWriteAsync(key));
        await w.DisposeAsync();
        await using var r3 = await a.ReaderWriter.AcquireReadAsync(key, TimeSpan.FromSeconds(10));
        Assert.True(r3.FencingToken > w.FencingToken);
    }

    [Fact]
    public async Task WaitingWriter_IsNotStarved_ByReadersArrivingAfterIt()
    {
        if (!Fifo)
        {
            return; // Redis-only mode serves waiters in no particular order (documented)
        }

        var a = NewNode();
        var b = Distributed ? NewNode() : a;
        var c = Distributed ? NewNode() : a;
        var key = Key();
        var r1 = await a.ReaderWriter.AcquireReadAsync(key);
        var writing = OtherFlow.Run(() => b.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(30)));
        await Task.Delay(200); // the writer queues behind the reader

        // A reader arriving after the writer queues behind it instead of joining the held read lock.
        var lateReader = OtherFlow.Run(() => c.ReaderWriter.AcquireReadAsync(key, TimeSpan.FromSeconds(30)));
        Assert.Null(await OtherFlow.Run(() => c.ReaderWriter.TryAcquireReadAsync(key, TimeSpan.FromMilliseconds(200))));
        Assert.False(lateReader.IsCompleted);
        await r1.DisposeAsync();
        var w = await writing.WaitAsync(TimeSpan.FromSeconds(15));
        await Task.Delay(50);
        Assert.False(lateReader.IsCompleted);
        await w.DisposeAsync();
        await using var r2 = await lateReader.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(r2.FencingToken > w.FencingToken);
    }

    [Fact]
    public async Task Upgrade_IsRefusedAtOnce_AWriteRequestWhileHoldingReadThrowsLockRecursionException()
    {
        var node = NewNode();
        var key = Key();
        var read = await node.ReaderWriter.AcquireReadAsync(key);
        var withTimeout = node.ReaderWriter.TryAcquireWriteAsync(key, TimeSpan.FromSeconds(30));
        var forever = node.ReaderWriter.AcquireWriteAsync(key);
        Assert.True(withTimeout.IsFaulted && forever.IsFaulted, "refused at once, not after a wait");
        var ex = await Assert.ThrowsAsync<LockRecursionException>(async () => await withTimeout);
        await Assert.ThrowsAsync<LockRecursionException>(async () => await forever);
        Assert.Contains("read lock of '" + key + "'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be upgraded", ex.Message, StringComparison.Ordinal);

        // Nothing was queued: another flow's reader still shares the read lock, and a writer gets it once it is released.
        await using (var other = await OtherFlow.Run(() => node.ReaderWriter.TryAcquireReadAsync(key)))
        {
            Assert.NotNull(other);
        }

        await read.DisposeAsync();
        await using var write = await node.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(10));
        Assert.True(write.FencingToken > read.FencingToken);
    }

    [Fact]
    public async Task ReadersAndWriters_OnSeveralNodes_WritersAlwaysAlone()
    {
        var nodes = Distributed ? new[] { NewNode(), NewNode(), NewNode() } : [NewNode()];
        var key = Key();
        var readers = 0;
        var writers = 0;
        var maxReaders = 0;
        var violations = 0;
        await Task.WhenAll(Enumerable.Range(0, 9).Select(async i =>
        {
            var node = nodes[i % nodes.Length];
            for (var j = 0; j < 5; j++)
            {
                if ((i + j) % 3 == 0)
                {
                    await using var w = await node.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(60));
                    if (Interlocked.Increment(ref writers) != 1 || Volatile.Read(ref readers) != 0)
                    {
                        Interlocked.Increment(ref violations);
                    }

                    await Task.Delay(5);
                    Interlocked.Decrement(ref writers);
                }
                else
                {
                    await using var r = await node.ReaderWriter.AcquireReadAsync(key, TimeSpan.FromSeconds(60));
                    InterlockedMax(ref maxReaders, Interlocked.Increment(ref readers));
                    if (Volatile.Read(ref writers) != 0)
                    {
                        Interlocked.Increment(ref violations);
                    }

                    await Task.Delay(10);
                    Interlocked.Decrement(ref readers);
                }
            }
        }));
        Assert.Equal(0, violations);
        Assert.True(maxReaders > 1, "readers shared the lock at least once");
    }
}

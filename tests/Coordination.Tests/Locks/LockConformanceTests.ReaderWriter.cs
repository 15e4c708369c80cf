using Coordination.Locks;

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
        var r2 = await b.ReaderWriter.TryAcquireReadAsync(key);
        Assert.NotNull(r1);
        Assert.NotNull(r2);
        Assert.Equal(Mode, r1.Mode);
        Assert.Null(await b.ReaderWriter.TryAcquireWriteAsync(key));
        Assert.Null(await a.ReaderWriter.TryAcquireWriteAsync(key, TimeSpan.FromMilliseconds(150)));

        var writing = b.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(30)).AsTask();
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
        var writing = b.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(30)).AsTask();
        await Task.Delay(200); // the writer queues behind the reader

        // A reader arriving after the writer queues behind it instead of joining the held read lock.
        var lateReader = c.ReaderWriter.AcquireReadAsync(key, TimeSpan.FromSeconds(30)).AsTask();
        Assert.Null(await c.ReaderWriter.TryAcquireReadAsync(key, TimeSpan.FromMilliseconds(200)));
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
    public async Task Upgrade_IsNotOffered_AWriteRequestWhileHoldingReadWaitsForTheReadLock()
    {
        var node = NewNode();
        var key = Key();
        var read = await node.ReaderWriter.AcquireReadAsync(key);
        Assert.Null(await node.ReaderWriter.TryAcquireWriteAsync(key, TimeSpan.FromMilliseconds(200)));
        var ex = await Assert.ThrowsAsync<TimeoutException>(async () => await node.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromMilliseconds(100)));
        Assert.Contains("write lock '" + key + "'", ex.Message, StringComparison.Ordinal);
        await read.DisposeAsync();
        await using var write = await node.ReaderWriter.AcquireWriteAsync(key, TimeSpan.FromSeconds(10));
        Assert.NotNull(write);
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

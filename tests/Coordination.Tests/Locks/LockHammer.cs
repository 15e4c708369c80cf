using Coordination.Locks;
using Coordination.Testing;

namespace Coordination.Tests.Locks;

/// <summary>
/// Contenders for one key for failover tests: every node runs <c>tasksPerNode</c> loops of acquire, check, unfenced
/// read-modify-write of a counter, release. Overlaps and fencing tokens that do not grow are counted; the counter and
/// the last token live on the plain test Redis (under <c>prefix</c>), which no failover touches, so worker processes
/// can share them. With <c>tolerateUnavailable</c> a <see cref="LockUnavailableException"/> is counted and retried
/// (fail closed); any other exception ends the loop and is rethrown by <see cref="StopAsync"/>.
/// </summary>
internal sealed class LockHammer : IAsyncDisposable
{
    private readonly string _prefix;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks;
    private long _grants;
    private long _overlaps;
    private long _staleTokens;
    private long _unavailable;
    private int _inside;

    public LockHammer(IEnumerable<LockNode> nodes, string key, string prefix, int tasksPerNode = 2, bool tolerateUnavailable = false)
    {
        _prefix = prefix;
        _tasks = nodes.SelectMany(n => Enumerable.Range(0, tasksPerNode).Select(_ => Task.Run(() => LoopAsync(n, key, tolerateUnavailable)))).ToList();
    }

    public long Grants => Interlocked.Read(ref _grants);

    public long Overlaps => Interlocked.Read(ref _overlaps);

    public long StaleTokens => Interlocked.Read(ref _staleTokens);

    public long Unavailable => Interlocked.Read(ref _unavailable);

    /// <summary>Waits until <paramref name="more"/> grants beyond the current count happened.</summary>
    public Task GrantsAsync(long more, TimeSpan timeout, string what)
    {
        var target = Grants + more;
        return Poll.UntilAsync(() => Grants >= target || _tasks.Any(t => t.IsFaulted), timeout, what);
    }

    /// <summary>Stops the loops and waits for them; rethrows what ended one early.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
    }

    /// <summary>Stops the loops and waits for them, ignoring how they ended (for finally blocks; <see cref="StopAsync"/> reports it).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    /// <summary>The shared counter: one per grant, here and in worker processes, unless an update was lost.</summary>
    public async Task<long> CounterAsync() => (long?)await TestEnv.RedisDb.StringGetAsync(_prefix + "counter") ?? 0;

    private async Task LoopAsync(LockNode node, string key, bool tolerateUnavailable)
    {
        var db = TestEnv.RedisDb;
        while (!_stop.IsCancellationRequested)
        {
            IDistributedLockHandle handle;
            try
            {
                handle = await node.Locks.AcquireAsync(key, TimeSpan.FromSeconds(30), _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (LockUnavailableException) when (tolerateUnavailable)
            {
                Interlocked.Increment(ref _unavailable);
                await Task.Delay(10);
                continue;
            }

            await using (handle)
            {
                if (Interlocked.Increment(ref _inside) != 1)
                {
                    Interlocked.Increment(ref _overlaps);
                }

                var last = (long?)await db.StringGetAsync(_prefix + "last-token") ?? 0;
                if (handle.FencingToken <= last)
                {
                    Interlocked.Increment(ref _staleTokens);
                }

                await db.StringSetAsync(_prefix + "last-token", handle.FencingToken);
                var v = (long?)await db.StringGetAsync(_prefix + "counter") ?? 0;
                await Task.Delay(2);
                await db.StringSetAsync(_prefix + "counter", v + 1);
                Interlocked.Decrement(ref _inside);
                Interlocked.Increment(ref _grants);
            }
        }
    }
}

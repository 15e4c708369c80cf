using Coordination.Hangfire.Tests.Infrastructure;
using Coordination.Testing;
using Hangfire;
using Hangfire.Server;

namespace Coordination.Hangfire.Tests;

public sealed record Order(int Id, Customer Customer);

public sealed record Customer(int Id, string Name);

/// <summary>Jobs used by the tests; each takes the test's run id so its observations land in that test's probe.</summary>
public static class TestJobs
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    [DistributedLock("same:{run}")]
    public static void SameKey(string run, int n)
    {
        var probe = Probe.For(run);
        using (probe.Enter(n.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            // Give an overlapping job every chance to show up.
            Poll.Within(TimeSpan.FromMilliseconds(150), () => probe.Current > 1);
        }
    }

    [DistributedLock("throttled:{run}", MaxConcurrency = 2, Timeout = "00:00:30")]
    public static void Throttled(string run, int n)
    {
        var probe = Probe.For(run);
        using (probe.Enter(n.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            // Stay until a second job is inside (the permits allow it) or a while has passed: a third would show up.
            Poll.Within(TimeSpan.FromMilliseconds(300), () => probe.Current > 2);
        }
    }

    [DistributedLock("parallel:{run}:{n}")]
    public static void DifferentKeys(string run, int n)
    {
        var probe = Probe.For(run);
        using (probe.Enter(n.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            // Both jobs stay inside until they have seen each other; serialised jobs would never both be inside.
            Poll.Within(Long, () => probe.MaxConcurrent >= 2);
        }
    }

    [DistributedLock("skip:{run}", OnContention = LockContention.Skip)]
    public static void SkipOnContention(string run)
    {
        using (Probe.For(run).Enter())
        {
        }
    }

    [DistributedLock("reschedule:{run}", OnContention = LockContention.Reschedule, RescheduleDelay = "00:00:01")]
    public static void RescheduleOnContention(string run)
    {
        using (Probe.For(run).Enter())
        {
        }
    }

    [DistributedLock("fail:{run}", Timeout = "0", OnContention = LockContention.Fail)]
    [AutomaticRetry(Attempts = 1, DelaysInSeconds = [60])]
    public static void FailOnContention(string run)
    {
        using (Probe.For(run).Enter())
        {
        }
    }

    [DistributedLock("wait:{run}", Timeout = "00:00:20")]
    public static void WaitOnContention(string run, string name)
    {
        var probe = Probe.For(run);
        using (probe.Enter(name))
        {
            if (name == "first")
            {
                probe.Gate.Wait(Long);
            }
        }
    }

    [DistributedLock("waitshort:{run}", Timeout = "00:00:00.200")]
    [AutomaticRetry(Attempts = 0)]
    public static void WaitBriefly(string run)
    {
        using (Probe.For(run).Enter())
        {
        }
    }

    [DistributedLock("invoice:{run}:{order.Customer.Id}")]
    public static void Bill(string run, Order order, PerformContext? context)
    {
        var probe = Probe.For(run);
        using (probe.Enter())
        {
            var current = JobLockContext.Current;
            probe.Keys.Enqueue(current?.Key ?? "(none)");
            probe.FencingTokens.Enqueue(current?.FencingToken ?? -1);
            probe.ContextsAgree = current is not null && ReferenceEquals(current, context?.GetJobLock()) && current.JobId == context!.BackgroundJob.Id;
        }
    }

    /// <summary>The provider <see cref="NestedAsync"/> takes its key from again (the fixture's).</summary>
    public static Coordination.Locks.IDistributedLockProvider? Locks { get; set; }

    [Singleton("nested:{run}")]
    public static async Task NestedAsync(string run)
    {
        var probe = Probe.For(run);
        using (probe.Enter())
        {
            // No timeout: without re-entrancy this waits for the lock its own job holds, forever.
            await using var nested = await Locks!.AcquireAsync("nested:" + run);
            probe.FencingTokens.Enqueue(JobLockContext.Current?.FencingToken ?? -1);
            probe.FencingTokens.Enqueue(nested.FencingToken);
        }
    }

    [DistributedLock("fenced:{run}")]
    public static async Task FencedAsync(string run)
    {
        var probe = Probe.For(run);
        await Task.Yield();
        using (probe.Enter())
        {
            probe.FencingTokens.Enqueue(JobLockContext.Current?.FencingToken ?? -1);
        }
    }

    [DistributedLock("bad:{customer}")]
    public static void BadTemplate(int customerId)
    {
        _ = customerId;
    }

    [DistributedLock("orders:{id")]
    public static void MalformedTemplate(int id)
    {
        _ = id;
    }

    [DistributedLock("x", Timeout = "soon")]
    public static void MalformedTimeout()
    {
    }

    [DistributedLock("member:{order.Nope}")]
    public static void BadMember(Order order)
    {
        _ = order;
    }

    [DistributedLock("named:{name}")]
    public static void Named(string? name)
    {
        _ = name;
    }

    [DistributedLock("throws:{run}")]
    [AutomaticRetry(Attempts = 0)]
    public static void Throws(string run)
    {
        using (Probe.For(run).Enter())
        {
            throw new InvalidOperationException("job failed on purpose");
        }
    }

    [DistributedLock("lost:{run}")]
    [AutomaticRetry(Attempts = 0)]
    public static void WaitsForCancellation(string run, CancellationToken token)
    {
        var probe = Probe.For(run);
        using (probe.Enter())
        {
            var lockToken = JobLockContext.Current!.CancellationToken;
            token.WaitHandle.WaitOne(Long);
            probe.JobTokenCancelled = token.IsCancellationRequested;
            probe.LockTokenCancelled = lockToken.IsCancellationRequested;
            token.ThrowIfCancellationRequested();
        }
    }

    [DistributedLock("lostjobtoken:{run}")]
    [AutomaticRetry(Attempts = 0)]
    public static void ChecksJobCancellationToken(string run, IJobCancellationToken token)
    {
        var probe = Probe.For(run);
        using (probe.Enter())
        {
            var deadline = DateTime.UtcNow + Long;
            try
            {
                while (DateTime.UtcNow < deadline)
                {
                    token.ShutdownToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(50));
                    token.ThrowIfCancellationRequested();
                }
            }
            catch (OperationCanceledException)
            {
                probe.JobTokenCancelled = true;
                throw;
            }
        }
    }

    [DistributedLock("lostasync:{run}")]
    [AutomaticRetry(Attempts = 0)]
    public static async Task WaitsForCancellationAsync(string run, CancellationToken token)
    {
        var probe = Probe.For(run);
        using (probe.Enter())
        {
            try
            {
                await Task.Delay(Long, token);
            }
            catch (OperationCanceledException)
            {
                probe.JobTokenCancelled = true;
                throw;
            }
        }
    }

    [DistributedLock("shutdown:{run}")]
    public static void BlocksUntilShutdown(string run, CancellationToken token)
    {
        using (Probe.For(run).Enter())
        {
            token.WaitHandle.WaitOne(Long);
            token.ThrowIfCancellationRequested();
        }
    }

    [DistributedLock("unavailable:{run}")]
    [AutomaticRetry(Attempts = 0)]
    public static void Guarded(string run)
    {
        using (Probe.For(run).Enter())
        {
        }
    }

    [Singleton("nightly:{run}")]
    public static void Nightly(string run)
    {
        using (Probe.For(run).Enter())
        {
        }
    }

    // The same core [Singleton] the compile-time aspect intercepts on direct calls; here the Hangfire filter reads it.
    [Singleton("aspect:{run}", OnContention = LockContention.Skip)]
    public static void AspectMarked(string run)
    {
        using (Probe.For(run).Enter())
        {
        }
    }
}

[Singleton]
public sealed class ReportJob
{
    public void Build(string run)
    {
        var probe = Probe.For(run);
        using (probe.Enter())
        {
            probe.Keys.Enqueue(JobLockContext.Current?.Key ?? "(none)");
        }
    }
}

public static class PlainJobs
{
    public static void Plain(string run)
    {
        var probe = Probe.For(run);
        using (probe.Enter())
        {
            probe.Keys.Enqueue(JobLockContext.Current?.Key ?? "(none)");
        }
    }

    [DistributedLock("amount:{amount}:{when}")]
    public static void Formatted(decimal amount, DateTime when)
    {
        _ = amount;
        _ = when;
    }
}

[DistributedLock("class-level")]
public sealed class MixedJob
{
    [Singleton("method-level:{run}")]
    public void Run(string run)
    {
        var probe = Probe.For(run);
        using (probe.Enter())
        {
            probe.Keys.Enqueue(JobLockContext.Current?.Key ?? "(none)");
        }
    }
}

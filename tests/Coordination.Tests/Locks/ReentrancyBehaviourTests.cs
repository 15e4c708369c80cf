using System.Diagnostics.Metrics;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Tests.Locks;

/// <summary>Re-entrancy and long-wait behaviour beyond the conformance suite: its limits, loss, disposal, several providers.</summary>
public sealed class ReentrancyBehaviourTests : LockNodeTests
{
    [Fact]
    public async Task AHoldCountsForItsOwnProvider_AnotherProviderInTheSameFlowIsAnotherProcess()
    {
        var a = NewNode();
        var b = NewNode();
        var key = Key();
        await using var held = await a.Locks.AcquireAsync(key);
        Assert.Null(await b.Locks.TryAcquireAsync(key)); // same flow, other provider: excluded as another process is
        await using var nested = await a.Locks.TryAcquireAsync(key);
        Assert.Equal(held.FencingToken, nested!.FencingToken);
    }

    [Fact]
    public async Task AnAsyncHelperThatAwaitsTheAcquire_EndsTheScopeWhenItReturns_ANonAsyncHelperKeepsIt()
    {
        var node = NewNode(LockMode.InProcess);
        var key = Key();

        // The documented limit: the hold belongs to the method that called the provider.
        async Task<IDistributedLockHandle> AwaitingHelperAsync() => await node.Locks.AcquireAsync(key);
        ValueTask<IDistributedLockHandle> PassThroughHelperAsync() => node.Locks.AcquireAsync(key);

        await using (var viaAsyncHelper = await AwaitingHelperAsync())
        {
            Assert.Null(await node.Locks.TryAcquireAsync(key)); // the caller's flow does not hold it: a second acquire waits
        }

        await using var viaPassThrough = await PassThroughHelperAsync();
        await using var nested = await node.Locks.TryAcquireAsync(key);
        Assert.Equal(viaPassThrough.FencingToken, nested!.FencingToken);
    }

    [Fact]
    public async Task ANestedHandleOfALostLock_IsLostToo_AndANestedAcquireAfterTheLossIsLostAtOnce()
    {
        var holder = NewNode();
        var key = Key();
        var outer = await holder.Locks.AcquireAsync(key);
        var nested = await holder.Locks.AcquireAsync(key);
        var node = ((LockHandle)((FlowHold)outer).Inner!).NodePath!;
        var admin = NewNode(LockMode.ZooKeeperOnly).Connections.GetZooKeeper();
        await admin.WaitForConnectedAsync(TimeSpan.FromSeconds(10));
        await admin.DeleteAsync(node);

        await Poll.UntilAsync(() => nested.LostToken.IsCancellationRequested, "the nested handle's LostToken fires");
        Assert.True(outer.LostToken.IsCancellationRequested);
        await using (var late = await holder.Locks.TryAcquireAsync(key))
        {
            Assert.True(late!.LostToken.IsCancellationRequested, "a lock the flow can no longer trust is not trusted again by nesting");
        }

        await nested.DisposeAsync();
        await outer.DisposeAsync();
        await using var next = await NewNode().Locks.AcquireAsync(key, TimeSpan.FromSeconds(10));
        Assert.True(next.FencingToken > outer.FencingToken);
    }

    [Fact]
    public async Task ANestedAcquire_OnADisposedProvider_OrWithACancelledToken_Throws()
    {
        var node = NewNode(LockMode.RedisOnly);
        var key = Key();
        var held = await node.Locks.AcquireAsync(key);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await node.Locks.AcquireAsync(key, cancellationToken: cancelled.Token));

        await node.DisposeAsync(); // releases what it held
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await node.Locks.TryAcquireAsync(key));
        await held.DisposeAsync(); // harmless
    }

    [Fact]
    public async Task ALongWait_OnAKeyHeldByAnotherProcess_NamesTheHolderFromTheRedisRecord_AndIsCounted()
    {
        var holder = NewNode();
        var logs = new CapturingLoggerProvider();
        var waiter = new LockNode(LockMode.Hybrid, Prefix, Root, o => o.LongWaitWarningAfter = TimeSpan.FromMilliseconds(200), logs);
        await using var waiterScope = waiter;
        var inspector = waiter.Services.GetRequiredService<ILockInspector>();
        var key = "orders/ü " + TestNamespace.NewId();
        long gauge = 0;
        using var meter = new MeterListener();
        meter.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Coordination" && instrument.Name == "coordination.lock.long_waits")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meter.SetMeasurementEventCallback<long>((_, delta, _, _) => Interlocked.Add(ref gauge, delta));
        meter.Start();

        var h = await holder.Locks.AcquireAsync(key);
        var waiting = OtherFlow.Run(() => waiter.Locks.AcquireAsync(key)); // no timeout
        await Poll.UntilAsync(() => inspector.GetLongWaits().Any(w => w.Holder is not null), "the long wait is listed with its holder", detail: () => string.Join(" | ", logs.Entries));
        var wait = Assert.Single(inspector.GetLongWaits());
        Assert.Equal(key, wait.Key);
        Assert.Empty(wait.HeldByWaiter);
        Assert.Contains("@" + Environment.MachineName, wait.Holder, StringComparison.Ordinal);
        Assert.Contains("(token " + h.FencingToken.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")", wait.Holder, StringComparison.Ordinal);
        Assert.True(Interlocked.Read(ref gauge) >= 1);
        var warning = Assert.Single(logs.Entries, e => e.EventId.Id == 2110);
        Assert.Contains("'" + key + "' (timeout infinite) while holding nothing", warning.Message, StringComparison.Ordinal);

        await h.DisposeAsync();
        await using var granted = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(inspector.GetLongWaits());
        Assert.Contains(logs.Entries, e => e.EventId.Id == 2111 && e.Message.Contains("granted", StringComparison.Ordinal));
        await Poll.UntilAsync(() => Interlocked.Read(ref gauge) == 0, "the gauge drops back");
    }

    [Fact]
    public async Task AWaitShorterThanTheThreshold_OrWithTheWarningOff_IsNeverReported()
    {
        var holder = NewNode(LockMode.InProcess, o => o.LongWaitWarningAfter = Timeout.InfiniteTimeSpan);
        var inspector = holder.Services.GetRequiredService<ILockInspector>();
        var key = Key();
        await using var h = await holder.Locks.AcquireAsync(key);
        Assert.Null(await OtherFlow.Run(() => holder.Locks.TryAcquireAsync(key, TimeSpan.FromMilliseconds(300))));
        Assert.Empty(inspector.GetLongWaits());

        var shortWaits = NewNode(LockMode.InProcess, o => o.LongWaitWarningAfter = TimeSpan.FromSeconds(5));
        await using var h2 = await shortWaits.Locks.AcquireAsync(key);
        var registry = shortWaits.Services.GetRequiredService<LockWaitRegistry>();
        Assert.False(registry.Watches(TimeSpan.FromSeconds(5)));
        Assert.True(registry.Watches(TimeSpan.FromSeconds(6)));
        Assert.True(registry.Watches(null));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:01")]
    [InlineData("2.00:00:00")]
    public void LongWaitWarningAfter_OutOfRange_FailsValidation_NamingOptionAndValue(string value)
    {
        var services = new ServiceCollection();
        services.AddHybridCoordination(o =>
        {
            o.Mode = LockMode.InProcess;
            o.LongWaitWarningAfter = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        });
        using var sp = services.BuildServiceProvider();
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<HybridCoordinationOptions>>().Value);
        Assert.Contains("Coordination:LongWaitWarningAfter '" + TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) + "'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReentrancyAndTheWarning_BindFromConfiguration()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordination:Mode"] = "InProcess",
            ["Coordination:ReentrantLocks"] = "false",
            ["Coordination:LongWaitWarningAfter"] = "00:02:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddHybridCoordination(config);
        using var sp = services.BuildServiceProvider();
        var o = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<HybridCoordinationOptions>>().Value;
        Assert.False(o.ReentrantLocks);
        Assert.Equal(TimeSpan.FromMinutes(2), o.LongWaitWarningAfter);
        Assert.True(new HybridCoordinationOptions().ReentrantLocks, "on by default");
        Assert.Equal(TimeSpan.FromSeconds(30), new HybridCoordinationOptions().LongWaitWarningAfter);
    }
}

using System.Globalization;
using Coordination.Keys;
using Coordination.Locks;
using Coordination.Testing;
using Xunit;

namespace Coordination.Aspects.Tests.Behaviour;

/// <summary>Calls [Singleton] methods of this project (rewritten by the generator at build time) and checks the lock.</summary>
public sealed class SingletonBehaviourTests
{
    private readonly GuardedService _service = new();

    public static TheoryData<string> Shapes => new() { "Task", "TaskOfT", "ValueTask", "ValueTaskOfT", "Static", "Extension", "ExtensionStaticForm", "Generic", "PlainTask", "Private", "Interface", "GenericTypeOpenCall" };

    // Direct calls, so each one is intercepted (a lambda calling the method is fine; a method group would not be).
    private Task CallShape(string shape, string name, Probe probe) => shape switch
    {
        "Task" => _service.TaskAsync(name, probe),
        "TaskOfT" => _service.TaskOfTAsync(name, probe),
        "ValueTask" => _service.ValueTaskAsync(name, probe).AsTask(),
        "ValueTaskOfT" => _service.ValueTaskOfTAsync(name, probe).AsTask(),
        "Static" => GuardedService.StaticAsync(name, probe),
        "Extension" => _service.ExtensionAsync(name, probe),
        "ExtensionStaticForm" => GuardedServiceExtensions.ExtensionAsync(_service, name, probe),
        "Generic" => _service.GenericAsync(name, 3, probe),
        "PlainTask" => _service.PlainTaskAsync(name, probe),
        "Private" => _service.CallPrivateAsync(name, probe),
        "Interface" => ((IGuardedJobs)new GuardedJobs()).RunAsync(name, probe),
        "GenericTypeOpenCall" => SaveThroughGenericCodeAsync(new GuardedRepository<string>(), name, name, probe),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown shape."),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Call_WhileKeyHeldElsewhere_WaitsAndRunsAfterRelease(string shape)
    {
        using var locks = LockProviderFixture.Use();
        var name = NewName();
        var held = await OtherFlow.Run(() => locks.Recorder.AcquireAsync("shape:" + name)); // another caller: the test flow would nest
        var probe = new Probe();

        var call = CallShape(shape, name, probe);
        await Poll.UntilAsync(() => locks.Recorder.Waiting == 1, "the call waits for the lock");
        Assert.Equal(0, probe.Runs);

        await held.DisposeAsync();
        await call;
        Assert.Equal(1, probe.Runs);
        Assert.Equal(0, locks.Recorder.Held);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task ConcurrentCalls_WithSameKey_NeverOverlap(string shape)
    {
        using var locks = LockProviderFixture.Use();
        var name = NewName();
        var probe = new Probe();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
            {
                await CallShape(shape, name, probe);
            }
        })));

        Assert.Equal(40, probe.Runs);
        Assert.Equal(1, probe.MaxInside);
        Assert.Equal(40, locks.Recorder.AcquiredKeys.Count(k => k == "shape:" + name));
        Assert.Equal(0, locks.Recorder.Held);
    }

    [Fact]
    public async Task ConcurrentCalls_WithDifferentKeys_RunAtTheSameTime()
    {
        using var locks = LockProviderFixture.Use();
        var first = new Probe { Parks = true };
        var second = new Probe { Parks = true };

        var a = _service.HoldAsync(NewName(), first);
        await first.Entered.Task.WaitAsync(Poll.DefaultTimeout);
        var b = _service.HoldAsync(NewName(), second);
        await second.Entered.Task.WaitAsync(Poll.DefaultTimeout);

        Assert.Equal(2, locks.Recorder.Held);
        first.Release.SetResult();
        second.Release.SetResult();
        await Task.WhenAll(a, b);
    }

    [Fact]
    public async Task TryOnce_WhenKeyHeld_ThrowsContentionExceptionNamingTheKey()
    {
        using var locks = LockProviderFixture.Use();
        var name = NewName();
        var holder = new Probe { Parks = true };
        var hold = _service.HoldAsync(name, holder);
        await holder.Entered.Task.WaitAsync(Poll.DefaultTimeout);
        var probe = new Probe();

        var error = await Assert.ThrowsAsync<SingletonContentionException>(() => _service.TryOnceAsync(name, probe));
        var briefly = await Assert.ThrowsAsync<SingletonContentionException>(() => _service.TryBrieflyAsync(name, probe));

        Assert.Equal("hold:" + name, error.Key);
        Assert.Contains("hold:" + name, error.Message, StringComparison.Ordinal);
        Assert.Equal("GuardedService.TryOnceAsync", error.Method);
        Assert.Equal(TimeSpan.Zero, error.Timeout);
        Assert.Equal(TimeSpan.FromMilliseconds(50), briefly.Timeout);
        Assert.Equal(0, probe.Runs);
        holder.Release.SetResult();
        await hold;
        Assert.Equal(1, await _service.TryOnceAsync(name, probe));
    }

    [Fact]
    public async Task Skip_WhenKeyHeld_ReturnsDefaultWithoutRunning()
    {
        using var locks = LockProviderFixture.Use();
        var name = NewName();
        var holder = new Probe { Parks = true };
        var hold = _service.HoldAsync(name, holder);
        await holder.Entered.Task.WaitAsync(Poll.DefaultTimeout);
        var probe = new Probe();

        Assert.Null(await _service.SkipAsync(name, probe));
        await _service.SkipVoidAsync(name, probe);
        Assert.Equal(0, probe.Runs);

        holder.Release.SetResult();
        await hold;
        Assert.Equal(7, await _service.SkipAsync(name, probe));
        Assert.Equal(1, probe.Runs);
    }

    [Fact]
    public async Task Key_IsExpandedFromParametersAndMemberPaths()
    {
        using var locks = LockProviderFixture.Use();
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            Assert.Equal("paid 42", await _service.OrderAsync(new Order(42, new Customer("eu"))));
            await _service.TenantAsync("acme", 1.5);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }

        Assert.Equal(["orders:42:eu", "tenants:acme:1.5:{literal}"], locks.Recorder.AcquiredKeys.ToArray());
    }

    [Fact]
    public async Task Key_WithNullInMemberPath_ThrowsPlaceholderMissingAndTakesNoLock()
    {
        using var locks = LockProviderFixture.Use();

        var error = await Assert.ThrowsAsync<KeyPlaceholderMissingException>(() => _service.OrderAsync(new Order(1, null)));

        Assert.Equal("{order.Customer.Region}", error.Placeholder.Text);
        Assert.Empty(locks.Recorder.AcquiredKeys);
    }

    [Fact]
    public async Task LostLock_CancelsTheLinkedCancellationTokenAndReleases()
    {
        using var locks = LockProviderFixture.Use();
        var probe = new Probe { Parks = true };
        var call = _service.WaitForCancellationAsync(NewName(), probe, CancellationToken.None);
        await probe.Entered.Task.WaitAsync(Poll.DefaultTimeout);

        locks.Recorder.LoseAll();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(0, locks.Recorder.Held);
    }

    [Fact]
    public async Task CallerCancellation_StillReachesTheMethodThroughTheLinkedToken()
    {
        using var locks = LockProviderFixture.Use();
        using var cts = new CancellationTokenSource();
        var probe = new Probe { Parks = true };
        var call = _service.WaitForCancellationAsync(NewName(), probe, cts.Token);
        await probe.Entered.Task.WaitAsync(Poll.DefaultTimeout);

        await cts.CancelAsync();

        // The method saw the linked token, so the exception carries that token; callers test their own token as usual.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.True(cts.IsCancellationRequested);
        Assert.Equal(0, locks.Recorder.Held);
    }

    [Fact]
    public async Task CallerCancellation_WhileWaitingForTheLock_CancelsWithoutRunning()
    {
        using var locks = LockProviderFixture.Use();
        var name = NewName();
        var held = await OtherFlow.Run(() => locks.Recorder.AcquireAsync("lost:" + name));
        using var cts = new CancellationTokenSource();
        var probe = new Probe();
        var call = _service.WaitForCancellationAsync(name, probe, cts.Token);
        await Poll.UntilAsync(() => locks.Recorder.Waiting == 1, "the call waits for the lock");

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(0, probe.Runs);
        await held.DisposeAsync();
        Assert.Equal(0, locks.Recorder.Held);
    }

    [Fact]
    public async Task Exception_PassesThroughUnchangedAndReleasesTheLock()
    {
        using var locks = LockProviderFixture.Use();
        var name = NewName();
        var error = new InvalidOperationException("boom");

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.FailAsync(name, error));
        var thrownSync = await Assert.ThrowsAsync<InvalidOperationException>(() => _service.FailSynchronouslyAsync(name, error));

        Assert.Same(error, thrown);
        Assert.Same(error, thrownSync);
        Assert.Equal(2, locks.Recorder.AcquiredKeys.Count(k => k == "fail:" + name));
        Assert.Equal(0, locks.Recorder.Held);
    }

    [Fact]
    public async Task ReturnValues_PassThroughUnchanged()
    {
        using var locks = LockProviderFixture.Use();
        var name = NewName();
        var value = new object();

        Assert.Equal(name.Length, await _service.TaskOfTAsync(name, new Probe()));
        Assert.Same(name, await _service.ValueTaskOfTAsync(name, new Probe()));
        Assert.Same(value, await _service.GenericAsync(name, value, new Probe()));
        Assert.Equal(3, locks.Recorder.AcquiredKeys.Count());
    }

    [Fact]
    public async Task BackendUnavailable_FailsClosedWithoutRunningTheMethod()
    {
        using var locks = LockProviderFixture.Use();
        var unavailable = new LockUnavailableException("ZooKeeper is unreachable.");
        locks.Recorder.Failure = unavailable;
        var probe = new Probe();

        var thrown = await Assert.ThrowsAsync<LockUnavailableException>(() => _service.TaskAsync(NewName(), probe));

        Assert.Same(unavailable, thrown);
        Assert.Equal(0, probe.Runs);
    }

    [Fact]
    public async Task CallThroughDelegate_RunsUnguarded()
    {
        using var locks = LockProviderFixture.Use();
        var probe = new Probe();
#pragma warning disable CSG005 // The point of this test: a method-group conversion is not intercepted.
        Func<string, Probe, Task> viaDelegate = _service.TaskAsync;
#pragma warning restore CSG005

        await viaDelegate(NewName(), probe);

        Assert.Equal(1, probe.Runs);
        Assert.Empty(locks.Recorder.AcquiredKeys);
    }

    // The call's type arguments are this method's type parameters: one generic interceptor covers it.
    private static Task<T> SaveThroughGenericCodeAsync<T>(GuardedRepository<T> repository, string name, T item, Probe probe)
        where T : class =>
        repository.SaveAsync(name, item, 42, probe);

    private static string NewName() => TestNamespace.NewId();
}

using System.Net;
using System.Net.Http.Json;
using Coordination.Aspects.Tests.Behaviour;
using Coordination.Locks;
using Coordination.Testing;
using Hangfire;
using Hangfire.InMemory;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Coordination.Aspects.Tests.Hosts;

/// <summary>
/// Issue 22: a flow that holds a key enters it again instead of deadlocking on itself, through every host with the
/// shipped attributes: two [Singleton] methods with one key, an endpoint's [DistributedLock] around a [Singleton]
/// service method, a Hangfire job under [Singleton] calling a guarded method. Each runs in InProcess mode with default
/// options (where the nested call used to wait forever) and in Hybrid mode on the real servers.
/// </summary>
[Collection(HangfireGlobals.Name)]
public sealed class NestedLockHostTests
{
    // A deadline for a call that used to hang forever: a failure here is the old deadlock, not a slow machine.
    private static readonly TimeSpan HangDeadline = TimeSpan.FromSeconds(60);

    public static TheoryData<LockMode> Modes => [LockMode.InProcess, LockMode.Hybrid];

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task TwoMarkedMethodsWithOneKey_TheFirstCallingTheSecond_Nest_AndOtherCallersStillWait(LockMode mode)
    {
        await using var locks = Locks.Create(mode);
        using var scope = SingletonRuntime.UseProvider(locks.Recorder);
        var service = new ReportService();
        var tenant = "tenant-" + TestNamespace.NewId();
        var first = new Probe { Parks = true };

        var call = service.RebuildAsync(tenant, first);
        await first.Entered.Task.WaitAsync(HangDeadline);
        var other = Task.Run(() => service.RebuildAsync(tenant, new Probe())); // another flow: waits for the first
        await Poll.UntilAsync(() => locks.Recorder.Waiting == 1, "the other caller waits");
        Assert.False(other.IsCompleted);

        first.Release.SetResult();
        Assert.Equal(tenant.Length + 1, await call.WaitAsync(HangDeadline));
        Assert.Equal(tenant.Length + 1, await other.WaitAsync(HangDeadline));

        var grants = locks.Recorder.Issued.Where(i => i.Key == "report:" + tenant).Select(i => i.Token).ToList();
        Assert.Equal(4, grants.Count);
        Assert.Equal(grants[0], grants[1]); // the nested call shares its caller's lock
        Assert.Equal(grants[2], grants[3]);
        Assert.True(grants[2] > grants[0], "the other caller got the lock after the first released it");
        Assert.Equal(0, locks.Recorder.Held);
    }

    [Fact]
    public async Task TwoMarkedMethodsWithOneKey_WithReentrancyOff_FailAtOnce_InsteadOfHanging()
    {
        await using var locks = Locks.Create(LockMode.InProcess, o => o.ReentrantLocks = false);
        using var scope = SingletonRuntime.UseProvider(locks.Recorder);
        var tenant = "tenant-" + TestNamespace.NewId();

        var ex = await Assert.ThrowsAsync<LockRecursionException>(() => new ReportService().RebuildAsync(tenant, new Probe()).WaitAsync(HangDeadline));
        Assert.Contains("report:" + tenant, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, locks.Recorder.Held);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AnEndpointLockedOnAKey_CallingAMarkedServiceMethodWithTheSameKey_Nests(LockMode mode)
    {
        await using var locks = Locks.Create(mode);
        using var scope = SingletonRuntime.UseProvider(locks.Recorder); // reaches the requests: the test server keeps the flow
        await using var app = await StartAppAsync(locks.Recorder);
        var client = app.GetTestClient();
        var id = TestNamespace.NewId();

        // Minimal API: the middleware takes "orders:{id}" from the route; the handler calls [Singleton("orders:{id}")].
        var minimal = await client.PostAsync(new Uri("/orders/" + id, UriKind.Relative), null).WaitAsync(HangDeadline);
        Assert.Equal(HttpStatusCode.OK, minimal.StatusCode);
        Assert.Equal("processed " + id, await minimal.Content.ReadAsStringAsync());
        AssertNested(locks.Recorder, "orders:" + id);

        // MVC: the action filter takes "ship:{order.Id}" from the bound body; the action calls [Singleton("ship:{orderId}")].
        var orderId = Random.Shared.Next(1, int.MaxValue);
        var mvc = await client.PostAsJsonAsync(new Uri("/orders/ship", UriKind.Relative), new ShipOrder(orderId)).WaitAsync(HangDeadline);
        Assert.Equal(HttpStatusCode.OK, mvc.StatusCode);
        Assert.Contains("shipped " + orderId.ToString(System.Globalization.CultureInfo.InvariantCulture), await mvc.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        AssertNested(locks.Recorder, "ship:" + orderId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Poll.UntilAsync(() => locks.Recorder.Held == 0, "every lock released after the responses");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task AHangfireJobUnderSingleton_CallingAGuardedMethodWithTheSameKey_Nests(LockMode mode)
    {
        await using var locks = Locks.Create(mode);
        var run = "run-" + TestNamespace.NewId();
        NestedJobs.Providers[run] = locks.Recorder;
        GlobalConfiguration.Configuration.UseHybridCoordination(locks.Recorder);
        var storage = new InMemoryStorage();
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions
        {
            WorkerCount = 1,
            SchedulePollingInterval = TimeSpan.FromMilliseconds(100),
            ShutdownTimeout = TimeSpan.FromSeconds(10),
        }, storage);

        var job = new BackgroundJobClient(storage).Enqueue(() => NestedJobs.RunAsync(run));
        string? state = null;
        await Poll.UntilAsync(() => (state = storage.GetConnection().GetStateData(job)?.Name) is "Succeeded" or "Failed" or "Deleted", "the job to finish", HangDeadline, () => $"state {state}");
        Assert.Equal("Succeeded", state);
        Assert.Equal("guarded " + run, NestedJobs.Results[run]);
        AssertNested(locks.Recorder, "jobs:" + run);
        Assert.Equal(0, locks.Recorder.Held);
    }

    private static void AssertNested(InstrumentedLockProvider recorder, string key)
    {
        var grants = recorder.Issued.Where(i => i.Key == key).Select(i => i.Token).ToList();
        Assert.Equal(2, grants.Count);
        Assert.Equal(grants[0], grants[1]);
    }

    private static async Task<WebApplication> StartAppAsync(IDistributedLockProvider provider)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer(o => o.PreserveExecutionContext = true);
        builder.Services.AddSingleton(provider);
        builder.Services.AddSingleton<OrderService>();
        builder.Services.AddDistributedLockEndpoints();
        builder.Services.AddControllers().ConfigureApplicationPartManager(parts =>
        {
            parts.ApplicationParts.Clear();
            parts.ApplicationParts.Add(new AssemblyPart(typeof(ShippingController).Assembly));
            parts.FeatureProviders.Clear();
            parts.FeatureProviders.Add(new OnlyShipping());
        });
        var app = builder.Build();
        app.UseDistributedLocks();
        app.MapPost("/orders/{id}", [DistributedLock("orders:{id}")] async (string id, OrderService orders) => await orders.ProcessAsync(id));
        app.MapControllers();
        await app.StartAsync();
        return app;
    }

    private sealed class OnlyShipping : ControllerFeatureProvider
    {
        protected override bool IsController(System.Reflection.TypeInfo typeInfo) => typeInfo.AsType() == typeof(ShippingController);
    }

    /// <summary>A provider of the mode under test (InProcess: a fresh container with default options), recorded.</summary>
    private sealed class Locks(ServiceProvider? container, IDistributedLockProvider provider) : IAsyncDisposable
    {
        public InstrumentedLockProvider Recorder { get; } = new(provider);

        public static Locks Create(LockMode mode, Action<HybridCoordinationOptions>? configure = null)
        {
            if (mode == LockMode.Hybrid && configure is null)
            {
                return new Locks(null, LockProviderFixture.CreateProvider());
            }

            var services = new ServiceCollection();
            services.AddHybridCoordination(o =>
            {
                if (mode == LockMode.Hybrid)
                {
                    LockProviderFixture.Configure(o);
                }
                else
                {
                    o.Mode = mode;
                }

                configure?.Invoke(o);
            });
            var container = services.BuildServiceProvider();
            return new Locks(container, container.GetRequiredService<IDistributedLockProvider>());
        }

        public async ValueTask DisposeAsync()
        {
            if (container is not null)
            {
                await container.DisposeAsync();
            }
        }
    }
}

/// <summary>Tests that install Hangfire's process-wide filters run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HangfireGlobals
{
    public const string Name = "Hangfire global filters";
}

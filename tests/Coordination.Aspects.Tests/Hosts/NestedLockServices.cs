using System.Collections.Concurrent;
using Coordination.Aspects.Tests.Behaviour;
using Coordination.Locks;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.Aspects.Tests.Hosts;

/// <summary>A report service whose two marked methods share one key template, the first calling the second (issue 22's repro).</summary>
public sealed class ReportService
{
    [Singleton("report:{tenant}")]
    public async Task<int> RebuildAsync(string tenant, Probe probe)
    {
        await probe.StepAsync();
        return await PublishAsync(tenant) + 1;
    }

    [Singleton("report:{tenant}")]
    public Task<int> PublishAsync(string tenant) => Task.FromResult(tenant.Length);
}

/// <summary>The service an endpoint locked on the same key calls.</summary>
public sealed class OrderService
{
    [Singleton("orders:{id}")]
    public Task<string> ProcessAsync(string id) => Task.FromResult("processed " + id);

    [Singleton("ship:{orderId}")]
    public Task<string> ShipAsync(int orderId) => Task.FromResult("shipped " + orderId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

public sealed record ShipOrder(int Id);

/// <summary>A controller action whose key needs a bound argument (the MVC filter takes the lock), calling the service.</summary>
[ApiController]
[Route("orders")]
public sealed class ShippingController(OrderService orders) : ControllerBase
{
    [HttpPost("ship")]
    [DistributedLock("ship:{order.Id}")]
    public async Task<IActionResult> ShipAsync([FromBody] ShipOrder order) => Ok(await orders.ShipAsync(order.Id));
}

/// <summary>Hangfire jobs under [Singleton] that call a guarded method with the same key.</summary>
public static class NestedJobs
{
    /// <summary>The provider the job's nested [Singleton] call uses, per run (the Hangfire filter uses the same one).</summary>
    public static ConcurrentDictionary<string, IDistributedLockProvider> Providers { get; } = new();

    public static ConcurrentDictionary<string, string> Results { get; } = new();

    [Singleton("jobs:{run}")]
    public static async Task RunAsync(string run)
    {
        using (SingletonRuntime.UseProvider(Providers[run]))
        {
            Results[run] = await GuardedAsync(run);
        }
    }

    [Singleton("jobs:{run}")]
    public static Task<string> GuardedAsync(string run) => Task.FromResult("guarded " + run);
}

using System.Net;
using System.Net.Http.Json;
using Coordination.AspNetCore.Tests.Controllers;
using Coordination.AspNetCore.Tests.Infrastructure;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.AspNetCore.Tests.Middleware;

public sealed class ControllerArgumentTests
{

    private static OrderDto Order(string id) => new() { Id = id, Customer = new CustomerDto { Number = 42 } };

    [Fact]
    public async Task KeyFromBodyMemberPathAndQueryBoundParameter_IsExpandedAfterModelBinding()
    {
        await using var app = await TestApp.StartAsync(controllers: [typeof(ArgumentController)]);
        var id = TestNamespace.NewId();

        var created = await app.Client.PostAsJsonAsync("/args/orders", Order(id));

        Assert.Equal($"order:{id}:42", await created.Content.ReadAsStringAsync());
        Assert.Equal($"tenant:{id}", await app.Client.GetStringAsync($"/args/tenants?tenant={id}"));
    }

    [Fact]
    public async Task ArgumentKeyedLock_ExcludesConcurrentRequestsOnTheSameArgument_AndIsReleasedAfterTheResponse()
    {
        await using var app = await TestApp.StartAsync(controllers: [typeof(ArgumentController)]);
        var id = TestNamespace.NewId();
        var holder = app.Client.PostAsJsonAsync($"/args/orders/hold?gate=h", Order(id));
        await app.Gates.WaitEnteredAsync("h");

        var contended = await app.Client.PostAsJsonAsync("/args/orders", Order(id));
        var other = await app.Client.PostAsJsonAsync("/args/orders", Order(TestNamespace.NewId()));

        Assert.Equal(HttpStatusCode.Conflict, contended.StatusCode);
        Assert.Equal(409, (await contended.Content.ReadFromJsonAsync<ProblemDetails>())!.Status);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        app.Gates.Release("h");
        Assert.Equal($"order:{id}:42", await (await holder).Content.ReadAsStringAsync());
        await Poll.UntilAsync(async () => (await app.Client.PostAsJsonAsync("/args/orders", Order(id))).StatusCode == HttpStatusCode.OK, "the holder released the lock");
    }

    [Fact]
    public async Task ArgumentMemberWithoutValue_Returns400NamingThePlaceholder()
    {
        await using var app = await TestApp.StartAsync(controllers: [typeof(ArgumentController)]);

        var response = await app.Client.PostAsJsonAsync("/args/orders", new OrderDto { Id = TestNamespace.NewId() });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("{order.Customer.Number}", (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LockLostDuringArgumentKeyedAction_CancelsTheBoundCancellationToken()
    {
        var fake = InstrumentedLockProvider.InProcess();
        await using var app = await TestApp.StartAsync(controllers: [typeof(ArgumentController)], provider: fake);
        var pending = app.Client.PostAsJsonAsync($"/args/orders/hold?gate=lost", Order(TestNamespace.NewId()));
        await app.Gates.WaitEnteredAsync("lost");

        var handle = Assert.Single(fake.Live);
        handle.MarkLost();

        Assert.Equal("cancelled", await (await pending).Content.ReadAsStringAsync());
        await Poll.UntilAsync(() => fake.Released == 1, "the lock was released after the response");
    }

    [Fact]
    public async Task BackendUnavailable_ArgumentKeyedActionDoesNotRun()
    {
        var fake = InstrumentedLockProvider.InProcess();
        fake.Failure = new LockUnavailableException("ZooKeeper is unreachable (injected).");
        await using var app = await TestApp.StartAsync(controllers: [typeof(ArgumentController)], provider: fake);

        var response = await app.Client.PostAsJsonAsync($"/args/orders/hold?gate=never", Order(TestNamespace.NewId()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(app.Gates.WasEntered("never"));
    }

    [Fact]
    public async Task MemberPathThatDoesNotExist_FailsStartup_NamingTheMember()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(controllers: [typeof(BadMemberPathController)]));

        Assert.Contains("{order.Nope}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'Nope'", ex.Message, StringComparison.Ordinal);
    }
}

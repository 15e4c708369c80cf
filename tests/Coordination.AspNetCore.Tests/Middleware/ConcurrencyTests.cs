using System.Net;
using Coordination.AspNetCore.RateLimiting;
using Coordination.AspNetCore.Tests.Infrastructure;
using Coordination.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.AspNetCore.Tests.Middleware;

/// <summary>Endpoints under a semaphore or a reader-writer lock, and the cluster-wide concurrency limiter.</summary>
public sealed class ConcurrencyTests
{
    private static string NewId() => Guid.NewGuid().ToString("N");

    private static void MapHold(WebApplication app, string path, Action<DistributedLockAttribute> configure) =>
        app.MapGet(path + "/{id}", async (HttpContext context, Gates gates, string gate) =>
        {
            await gates.HoldAsync(gate, context.RequestAborted);
            return "ok";
        }).WithDistributedLock("c:{id}", configure);

    [Fact]
    public async Task EndpointWithMaxConcurrency_AdmitsThatManyRequests_AndRejectsTheNextWith409()
    {
        await using var app = await TestApp.StartAsync(a => MapHold(a, "/reports", l => l.MaxConcurrency = 2));
        var id = NewId();
        var first = app.Client.GetAsync($"/reports/{id}?gate=a");
        var second = app.Client.GetAsync($"/reports/{id}?gate=b");
        await app.Gates.WaitEnteredAsync("a");
        await app.Gates.WaitEnteredAsync("b");

        var third = await app.Client.GetAsync($"/reports/{id}?gate=c");

        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);
        Assert.False(app.Gates.WasEntered("c"));
        app.Gates.Release("a");
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        app.Gates.Release("d"); // a request through gate d does not wait
        await Poll.UntilAsync(async () => (await app.Client.GetAsync($"/reports/{id}?gate=d")).StatusCode == HttpStatusCode.OK, "a permit came back");
        app.Gates.ReleaseAll();
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
    }

    [Fact]
    public async Task ReadEndpoints_RunTogether_AndAWriteEndpointIsRejectedWhileTheyHold()
    {
        await using var app = await TestApp.StartAsync(a =>
        {
            MapHold(a, "/settings/read", l => l.Access = LockAccess.Read);
            MapHold(a, "/settings/write", l => l.Access = LockAccess.Write);
        });
        var id = NewId();
        var r1 = app.Client.GetAsync($"/settings/read/{id}?gate=r1");
        var r2 = app.Client.GetAsync($"/settings/read/{id}?gate=r2");
        await app.Gates.WaitEnteredAsync("r1");
        await app.Gates.WaitEnteredAsync("r2");

        var write = await app.Client.GetAsync($"/settings/write/{id}?gate=w");

        Assert.Equal(HttpStatusCode.Conflict, write.StatusCode);
        app.Gates.ReleaseAll();
        Assert.Equal(HttpStatusCode.OK, (await r1).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await r2).StatusCode);
    }

    [Fact]
    public async Task ReadAccessWithMaxConcurrency_FailsAtStartup_NamingTheEndpoint()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => TestApp.StartAsync(a => MapHold(a, "/bad", l =>
        {
            l.Access = LockAccess.Read;
            l.MaxConcurrency = 3;
        })));
        Assert.Contains("MaxConcurrency 3", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrencyLimiter_SharedByTwoInstances_AdmitsPermitLimitRequests_AndRejectsWithRetryAfter()
    {
        var policy = "payments-" + NewId();
        void Limiter(IServiceCollection services) => services.AddRateLimiter(o => o.AddDistributedConcurrencyLimiter(policy, permitLimit: 2));
        void Map(WebApplication a)
        {
            a.UseRateLimiter();
            a.MapGet("/pay", async (HttpContext context, Gates gates, string gate) =>
            {
                await gates.HoldAsync(gate, context.RequestAborted);
                return "paid";
            }).RequireRateLimiting(policy);
        }

        var gates = new Gates();
        await using var one = await TestApp.StartAsync(Map, services: Limiter, gates: gates);
        await using var two = await TestApp.StartAsync(Map, services: Limiter, gates: gates);
        var a = one.Client.GetAsync("/pay?gate=a");
        var b = two.Client.GetAsync("/pay?gate=b");
        await gates.WaitEnteredAsync("a");
        await gates.WaitEnteredAsync("b");

        var rejected = await one.Client.GetAsync("/pay?gate=c");
        var rejectedElsewhere = await two.Client.GetAsync("/pay?gate=d");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal("1", rejected.Headers.GetValues("Retry-After").Single());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejectedElsewhere.StatusCode);
        Assert.False(gates.WasEntered("c"));
        gates.Release("a");
        Assert.Equal("paid", await (await a).Content.ReadAsStringAsync());
        gates.Release("e");
        await Poll.UntilAsync(async () => (await two.Client.GetAsync("/pay?gate=e")).StatusCode == HttpStatusCode.OK, "the permit came back");
        gates.ReleaseAll();
        Assert.Equal(HttpStatusCode.OK, (await b).StatusCode);
    }

    [Fact]
    public async Task ConcurrencyLimiter_WhenAPermitIsLost_AbortsItsRequest_AndOtherRequestsRunOn()
    {
        var policy = "lost-" + NewId();
        var locks = new InstrumentedLockProvider(TestLockBackend.CreateProvider());
        await using var app = await TestApp.StartAsync(
            a =>
            {
                a.UseRateLimiter();
                a.MapGet("/pay", async (HttpContext context, Gates gates, string gate) =>
                {
                    try
                    {
                        await gates.HoldAsync(gate, context.RequestAborted);
                        return "paid";
                    }
                    catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                    {
                        return "aborted";
                    }
                }).RequireRateLimiting(policy);
            },
            provider: locks,
            services: s => s.AddRateLimiter(o => o.AddDistributedConcurrencyLimiter(policy, permitLimit: 2)));
        var doomed = app.Client.GetAsync("/pay?gate=a");
        await app.Gates.WaitEnteredAsync("a");

        locks.MarkLost("ratelimit:" + policy);

        Assert.Equal("aborted", await (await doomed).Content.ReadAsStringAsync());
        app.Gates.Release("b");
        Assert.Equal("paid", await (await app.Client.GetAsync("/pay?gate=b")).Content.ReadAsStringAsync());
        // The lease's release runs after the response (the limiter does not make the request wait for it).
        await Poll.UntilAsync(() => locks.LiveHandles("ratelimit:" + policy) == 0, "both permits released");
    }
}

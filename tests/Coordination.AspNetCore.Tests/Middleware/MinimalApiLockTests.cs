using System.Net;
using System.Net.Http.Json;
using Coordination.AspNetCore.Tests.Infrastructure;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Coordination.AspNetCore.Tests.Middleware;

public sealed class MinimalApiLockTests
{

    private static void MapHold(WebApplication app, string template, Action<DistributedLockAttribute>? configure = null, Action<DistributedLockResponseAttribute>? response = null) =>
        app.MapGet("/hold/{id}", async (HttpContext context, Gates gates, string gate) =>
        {
            await gates.HoldAsync(gate, context.RequestAborted);
            return TestApp.KeyOf(context);
        }).WithDistributedLock(template, configure).WithDistributedLockResponse(response ?? (_ => { }));

    [Fact]
    public async Task Handler_TakingTheEndpointsKeyAgain_GetsANestedHandle_WithTheRequestsToken_AndOtherRequestsStillGet409()
    {
        await using var app = await TestApp.StartAsync(a => a.MapPost("/nest/{id}", async (HttpContext context, IDistributedLockProvider locks, Gates gates, string id) =>
        {
            var held = context.Features.Get<IDistributedLockFeature>()!;
            await using var nested = await locks.AcquireAsync("orders:" + id); // no timeout: without re-entrancy it waits for this very request
            await gates.HoldAsync("inside", context.RequestAborted);
            return nested.FencingToken == held.FencingToken && nested.Key == held.Key ? "nested" : "separate";
        }).WithDistributedLock("orders:{id}"));
        var id = TestNamespace.NewId();
        var request = app.Client.PostAsync(new Uri($"/nest/{id}", UriKind.Relative), null);
        await app.Gates.WaitEnteredAsync("inside");

        var other = await app.Client.PostAsync(new Uri($"/nest/{id}", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);

        app.Gates.Release("inside");
        var response = await request;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("nested", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TryOnce_WhileOneRequestHoldsTheKey_EveryOtherRequestGets409ProblemWithRetryAfter()
    {
        await using var app = await TestApp.StartAsync(a => MapHold(a, "orders:{id}"));
        var id = TestNamespace.NewId();
        var holder = app.Client.GetAsync($"/hold/{id}?gate=h");
        await app.Gates.WaitEnteredAsync("h");

        var rejected = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => app.Client.GetAsync($"/hold/{id}?gate=r{i}")));

        Assert.All(rejected, r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.All(rejected, r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));
        Assert.All(rejected, r => Assert.Equal("1", r.Headers.GetValues("Retry-After").Single()));
        var problem = await rejected[0].Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal(409, problem!.Status);
        Assert.All(Enumerable.Range(0, 4), i => Assert.False(app.Gates.WasEntered($"r{i}")));

        app.Gates.Release("h");
        var held = await holder;
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        Assert.Equal($"orders:{id}", await held.Content.ReadAsStringAsync());

        app.Gates.Release("after");
        var after = await app.Client.GetAsync($"/hold/{id}?gate=after");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task WaitTimeout_ParallelRequestsOnOneKey_AllSucceedOneAfterAnotherWithoutOverlap()
    {
        const int Requests = 5;
        var recording = new InstrumentedLockProvider(TestLockBackend.CreateProvider());
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int inside = 0, maxInside = 0, entered = 0;
        await using var app = await TestApp.StartAsync(
            a => a.MapPost("/pay/{id}", async (string id) =>
            {
                var now = Interlocked.Increment(ref inside);
                Interlocked.Increment(ref entered);
                InterlockedMax(ref maxInside, now);
                await open.Task;
                Interlocked.Decrement(ref inside);
                return Results.Ok();
            }).WithDistributedLock("pay:{id}", o => o.Timeout = "00:00:30"),
            provider: recording);
        var id = TestNamespace.NewId();

        var requests = Enumerable.Range(0, Requests).Select(_ => app.Client.PostAsync($"/pay/{id}", null)).ToArray();
        HttpResponseMessage[] responses;
        try
        {
            await Poll.UntilAsync(() => recording.Attempts == Requests && Volatile.Read(ref entered) == 1, "all requests reached the lock and one entered");
            Assert.DoesNotContain(requests, r => r.IsCompleted);
        }
        finally
        {
            open.TrySetResult();
            responses = await Task.WhenAll(requests);
        }

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(Requests, entered);
        Assert.Equal(1, maxInside);
    }

    [Fact]
    public async Task DistinctKeys_RunInParallel()
    {
        await using var app = await TestApp.StartAsync(a => MapHold(a, "orders:{id}"));
        var a = app.Client.GetAsync($"/hold/{TestNamespace.NewId()}?gate=a");
        var b = app.Client.GetAsync($"/hold/{TestNamespace.NewId()}?gate=b");

        await app.Gates.WaitEnteredAsync("a");
        await app.Gates.WaitEnteredAsync("b");
        app.Gates.Release("a");
        app.Gates.Release("b");

        Assert.Equal(HttpStatusCode.OK, (await a).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b).StatusCode);
    }

    [Fact]
    public async Task TwoAppInstances_ExcludeEachOtherOnOneKey()
    {
        var gates = new Gates();
        await using var first = await TestApp.StartAsync(a => MapHold(a, "shared:{id}"), gates: gates);
        await using var second = await TestApp.StartAsync(a => MapHold(a, "shared:{id}"), gates: gates);
        var id = TestNamespace.NewId();
        var holder = first.Client.GetAsync($"/hold/{id}?gate=first");
        await gates.WaitEnteredAsync("first");

        var rejected = await second.Client.GetAsync($"/hold/{id}?gate=second");

        Assert.Equal(HttpStatusCode.Conflict, rejected.StatusCode);
        Assert.False(gates.WasEntered("second"));
        gates.Release("first");
        Assert.Equal(HttpStatusCode.OK, (await holder).StatusCode);
    }

    [Fact]
    public async Task KeyTemplate_IsFilledFromRouteQueryHeaderAndClaim()
    {
        await using var app = await TestApp.StartAsync(a => a
            .MapGet("/sources/{id}", TestApp.KeyOf)
            .WithDistributedLock("src:{id}:{route:id}:{query:q}:{header:X-Tenant}:{claim:sub}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/sources/7?q=qv");
        request.Headers.Add("X-Tenant", "acme");
        request.Headers.Add("X-Test-User", "alice");

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("src:7:7:qv:acme:alice", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/missing?q=1", "{header:X-Tenant}")]
    [InlineData("/missing", "{query:q}")]
    public async Task MissingPlaceholderValue_Returns400ProblemNamingIt_AndHandlerDoesNotRun(string url, string placeholder)
    {
        var ran = 0;
        await using var app = await TestApp.StartAsync(a => a
            .MapGet("/missing", () => Interlocked.Increment(ref ran))
            .WithDistributedLock("m:{query:q}:{header:X-Tenant}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (!url.Contains("?", StringComparison.Ordinal))
        {
            request.Headers.Add("X-Tenant", "acme");
        }

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Contains(placeholder, problem!.Detail, StringComparison.Ordinal);
        Assert.Equal(0, ran);
    }

    [Fact]
    public async Task KeyTheProviderRejects_Returns400Problem_AndHandlerDoesNotRun()
    {
        var ran = 0;
        await using var app = await TestApp.StartAsync(a => a
            .MapGet("/long", () => Interlocked.Increment(ref ran))
            .WithDistributedLock("long:{header:X-Tenant}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/long");
        request.Headers.Add("X-Tenant", new string('t', 2000));

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Invalid lock key.", (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);
        Assert.Equal(0, ran);
    }

    [Fact]
    public async Task EndpointContentionStatusCode_IsUsedInsteadOf409()
    {
        await using var app = await TestApp.StartAsync(a => MapHold(a, "locked:{id}", response: o => o.ContentionStatusCode = 423));
        var id = TestNamespace.NewId();
        var holder = app.Client.GetAsync($"/hold/{id}?gate=h");
        await app.Gates.WaitEnteredAsync("h");

        var rejected = await app.Client.GetAsync($"/hold/{id}?gate=r");

        Assert.Equal((HttpStatusCode)423, rejected.StatusCode);
        Assert.Equal(423, (await rejected.Content.ReadFromJsonAsync<ProblemDetails>())!.Status);
        app.Gates.Release("h");
        await holder;
    }

    [Fact]
    public async Task GlobalContentionStatusCodeAndRetryAfter_ApplyToEndpointsThatDoNotSay()
    {
        await using var app = await TestApp.StartAsync(
            a => MapHold(a, "global:{id}"),
            options: o =>
            {
                o.ContentionStatusCode = 423;
                o.RetryAfter = TimeSpan.FromSeconds(2.5);
            });
        var id = TestNamespace.NewId();
        var holder = app.Client.GetAsync($"/hold/{id}?gate=h");
        await app.Gates.WaitEnteredAsync("h");

        var rejected = await app.Client.GetAsync($"/hold/{id}?gate=r");

        Assert.Equal((HttpStatusCode)423, rejected.StatusCode);
        Assert.Equal("3", rejected.Headers.GetValues("Retry-After").Single());
        app.Gates.Release("h");
        await holder;
    }

    [Fact]
    public async Task OnContentionCallback_WritesItsOwnResponse_EndpointCallbackWinsOverGlobal()
    {
        await using var app = await TestApp.StartAsync(
            a =>
            {
                MapHold(a, "cb:{id}");
                a.MapGet("/own/{id}", TestApp.KeyOf).WithDistributedLock("cb:{id}").WithDistributedLockResponse(o => o.OnContention = async (c, ct) =>
                {
                    c.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                    await c.HttpContext.Response.WriteAsync($"endpoint busy {c.Key} {c.KeyTemplate}", ct);
                });
            },
            options: o => o.OnContention = async (c, ct) => await c.HttpContext.Response.WriteAsync($"global busy {c.Key} {c.HttpContext.Response.StatusCode}", ct));
        var id = TestNamespace.NewId();
        var holder = app.Client.GetAsync($"/hold/{id}?gate=h");
        await app.Gates.WaitEnteredAsync("h");

        var global = await app.Client.GetAsync($"/hold/{id}?gate=r");
        var own = await app.Client.GetAsync($"/own/{id}");

        Assert.Equal(HttpStatusCode.Conflict, global.StatusCode);
        Assert.Equal($"global busy cb:{id} 409", await global.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.TooManyRequests, own.StatusCode);
        Assert.Equal($"endpoint busy cb:{id} cb:{{id}}", await own.Content.ReadAsStringAsync());
        app.Gates.Release("h");
        await holder;
    }

    [Fact]
    public async Task Feature_ExposesKeyAndGrowingFencingToken_HeaderOnlyWhenOptedIn()
    {
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/token/{id}", (HttpContext c) => $"{TestApp.KeyOf(c)}|{c.Features.Get<IDistributedLockFeature>()!.FencingToken}")
                .WithDistributedLock("token:{id}").WithDistributedLockResponse(o => o.ExposeFencingTokenHeader = true);
            a.MapGet("/quiet/{id}", TestApp.KeyOf).WithDistributedLock("quiet:{id}");
        });
        var id = TestNamespace.NewId();

        var first = await app.Client.GetAsync($"/token/{id}");
        var second = await app.Client.GetAsync($"/token/{id}");
        var quiet = await app.Client.GetAsync($"/quiet/{id}");

        var (key1, token1) = Split(await first.Content.ReadAsStringAsync());
        var (_, token2) = Split(await second.Content.ReadAsStringAsync());
        Assert.Equal($"token:{id}", key1);
        Assert.Equal(token1.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Headers.GetValues("X-Fencing-Token").Single());
        Assert.True(token2 > token1, $"fencing token must grow: {token1} then {token2}");
        Assert.Equal($"quiet:{id}", await quiet.Content.ReadAsStringAsync());
        Assert.False(quiet.Headers.Contains("X-Fencing-Token"));

        static (string Key, long Token) Split(string body) => (body.Split('|')[0], long.Parse(body.Split('|')[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task GlobalExposeFencingTokenHeader_AddsHeaderUnderConfiguredName()
    {
        await using var app = await TestApp.StartAsync(
            a => a.MapGet("/g/{id}", TestApp.KeyOf).WithDistributedLock("g:{id}"),
            options: o =>
            {
                o.ExposeFencingTokenHeader = true;
                o.FencingTokenHeaderName = "X-Lock-Token";
            });

        var response = await app.Client.GetAsync($"/g/{TestNamespace.NewId()}");

        Assert.True(long.Parse(response.Headers.GetValues("X-Lock-Token").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task RouteGroup_LocksItsEndpoints_EndpointDeclarationOverridesAndDisableOptsOut()
    {
        await using var app = await TestApp.StartAsync(a =>
        {
            var group = a.MapGroup("/tenants/{tenant}").WithDistributedLock("grp:{tenant}");
            group.MapGet("/", TestApp.KeyOf);
            group.MapGet("/own", TestApp.KeyOf).WithDistributedLock("own:{tenant}");
            group.MapGet("/open", TestApp.KeyOf).DisableDistributedLock();
        });
        var tenant = TestNamespace.NewId();

        Assert.Equal($"grp:{tenant}", await app.Client.GetStringAsync($"/tenants/{tenant}/"));
        Assert.Equal($"own:{tenant}", await app.Client.GetStringAsync($"/tenants/{tenant}/own"));
        Assert.Equal("unlocked", await app.Client.GetStringAsync($"/tenants/{tenant}/open"));
    }

    [Fact]
    public async Task SingletonAttributeOnLambda_IsHonouredLikeDistributedLock()
    {
        var key = "nightly-" + TestNamespace.NewId();
        var gates = new Gates();
        await using var app = await TestApp.StartAsync(
            a => a.MapGet("/singleton", [Singleton("{query:job}", Timeout = "0")] async (HttpContext c, Gates g) =>
            {
                await g.HoldAsync(c.Request.Query["gate"]!, c.RequestAborted);
                return TestApp.KeyOf(c);
            }),
            gates: gates);
        var holder = app.Client.GetAsync($"/singleton?job={key}&gate=h");
        await gates.WaitEnteredAsync("h");

        var rejected = await app.Client.GetAsync($"/singleton?job={key}&gate=r");

        Assert.Equal(HttpStatusCode.Conflict, rejected.StatusCode);
        gates.Release("h");
        Assert.Equal(key, await (await holder).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WithDistributedLock_AddsTheCoreAttribute_TheSameMetadataAsTheAttributeSpelling()
    {
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/fluent/{id}", TestApp.KeyOf).WithDistributedLock("fluent:{id}", o => o.OnContention = LockContention.Skip);
            a.MapGet("/attribute/{id}", [DistributedLock("attribute:{id}", OnContention = LockContention.Skip)] (HttpContext c) => TestApp.KeyOf(c));
        });

        var endpoints = ((IEndpointRouteBuilder)app.App).DataSources.SelectMany(d => d.Endpoints).ToList();
        var fluent = endpoints.Single(e => e.DisplayName!.Contains("/fluent/", StringComparison.Ordinal)).Metadata.GetMetadata<IDistributedLockMetadata>();
        var attribute = endpoints.Single(e => e.DisplayName!.Contains("/attribute/", StringComparison.Ordinal)).Metadata.GetMetadata<IDistributedLockMetadata>();

        Assert.IsType<DistributedLockAttribute>(fluent);
        Assert.IsType<DistributedLockAttribute>(attribute);
        Assert.Equal(LockContention.Skip, fluent.OnContention);
        Assert.Equal("fluent:1", await app.Client.GetStringAsync("/fluent/1"));
        Assert.Equal("attribute:1", await app.Client.GetStringAsync("/attribute/1"));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

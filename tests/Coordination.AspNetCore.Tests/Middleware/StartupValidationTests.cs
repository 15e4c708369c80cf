using System.Net;
using Coordination.AspNetCore.Tests.Controllers;
using Coordination.AspNetCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace Coordination.AspNetCore.Tests.Middleware;

public sealed class StartupValidationTests
{
    [Fact]
    public async Task RoutePlaceholderTheRouteLacks_FailsStartup_NamingEndpointAndPlaceholder()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(a => a
            .MapPost("/orders/{id}", () => "x").WithDisplayName("Pay order").WithDistributedLock("orders:{tenant}")));

        Assert.Contains("'Pay order'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("{tenant}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/orders/{id}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownPlaceholderSource_FailsStartup()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(a => a
            .MapGet("/c", () => "x").WithDistributedLock("c:{cookie:session}")));

        Assert.Contains("{cookie:session}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unknown source 'cookie'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MemberPathPlaceholder_FailsStartup()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(a => a
            .MapPost("/o", () => "x").WithDistributedLock("o:{order.Id}")));

        Assert.Contains("{order.Id}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControllerTemplateNamingMissingRouteValue_FailsStartup_NamingTheAction()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(controllers: [typeof(BadTemplateController)]));

        Assert.Contains(nameof(BadTemplateController), ex.Message, StringComparison.Ordinal);
        Assert.Contains("{tenant}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControllerTimeoutThatIsNotATimeSpan_FailsStartup()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(controllers: [typeof(BadTimeoutController)]));

        Assert.Contains(nameof(BadTimeoutController), ex.Message, StringComparison.Ordinal);
        Assert.Contains("'five seconds'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LockedEndpointWithoutUseDistributedLocks_FailsStartup()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(
            a => a.MapGet("/u/{id}", () => "x").WithDistributedLock("u:{id}"),
            useLocks: false));

        Assert.Contains("UseDistributedLocks()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseDistributedLocksBeforeRouting_LockedEndpointsFailClosedInsteadOfRunningUnguarded()
    {
        var ran = 0;
        await using var app = await TestApp.StartAsync(
            a =>
            {
                a.MapGet("/minimal/{id}", () => Interlocked.Increment(ref ran)).WithDistributedLock("minimal:{id}");
                a.MapGroup("/group/{id}").WithDistributedLock("group:{id}").MapGet("/", () => Interlocked.Increment(ref ran));
                a.MapGet("/free", () => "free");
            },
            controllers: [typeof(LockedController)],
            locksBeforeRouting: true);

        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.GetAsync("/minimal/1")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.GetAsync("/group/1/")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.GetAsync("/ctl/1")).StatusCode);
        Assert.Equal(0, ran);
        Assert.Equal("free", await app.Client.GetStringAsync("/free"));
        Assert.Equal("unlocked", await app.Client.GetStringAsync("/ctl/1/open"));
    }

    [Fact]
    public async Task UseDistributedLocksWithoutItsServices_ThrowsNamingTheRegistration()
    {
        var builder = WebApplication.CreateSlimBuilder();
        await using var app = builder.Build();

        var ex = Assert.Throws<InvalidOperationException>(() => app.UseDistributedLocks());

        Assert.Contains("AddDistributedLockEndpoints()", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidGlobalOptions_FailStartup_NamingTheOption()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(options: o => o.ContentionStatusCode = 200));

        Assert.Contains("ContentionStatusCode", ex.Message, StringComparison.Ordinal);
        Assert.Contains("200", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("orders:{id")]
    [InlineData("orders:{}")]
    [InlineData(" ")]
    public async Task MalformedTemplateInCode_ThrowsWhenMapped(string template)
    {
        await using var app = await TestApp.StartAsync();

        Assert.ThrowsAny<ArgumentException>(() => app.App.MapGet("/bad", () => "x").WithDistributedLock(template));
    }

    [Fact]
    public async Task OutOfRangeSettingsInCode_ThrowWhenMapped()
    {
        await using var app = await TestApp.StartAsync();

        Assert.Throws<ArgumentException>(() => app.App.MapGet("/s", () => "x").WithDistributedLock("s").WithDistributedLockResponse(o => o.ContentionStatusCode = 200));
        Assert.Throws<ArgumentException>(() => app.App.MapGet("/t", () => "x").WithDistributedLock("t", o => o.Timeout = "soon"));
        Assert.Throws<ArgumentOutOfRangeException>(() => app.App.MapGet("/n", () => "x").WithDistributedLock("n", o => o.WaitTimeout = TimeSpan.FromSeconds(-2)));
    }
}

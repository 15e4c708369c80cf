using System.Net;
using System.Net.Http.Json;
using Coordination.AspNetCore.Tests.Infrastructure;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.AspNetCore.Tests.Middleware;

public sealed class FailureAndReleaseTests
{

    [Fact]
    public async Task BackendUnavailable_Returns503Problem_AndHandlerNeverRuns()
    {
        var ran = 0;
        var fake = InstrumentedLockProvider.InProcess();
        fake.Failure = new LockUnavailableException("ZooKeeper is unreachable (injected).");
        await using var app = await TestApp.StartAsync(
            a => a.MapPost("/pay/{id}", () => Interlocked.Increment(ref ran)).WithDistributedLock("pay:{id}"),
            provider: fake);

        var response = await app.Client.PostAsync($"/pay/{TestNamespace.NewId()}", null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(503, (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Status);
        Assert.Equal(1, fake.Attempts);
        Assert.Equal(0, ran);
    }

    [Fact]
    public async Task LockLostMidRequest_FiresRequestAbortedAndTheBoundCancellationToken()
    {
        var fake = InstrumentedLockProvider.InProcess();
        await using var app = await TestApp.StartAsync(
            a => a.MapGet("/lost/{id}", async (HttpContext context, Gates gates, CancellationToken bound) =>
            {
                try
                {
                    await gates.HoldAsync("lost", bound);
                    return "finished";
                }
                catch (OperationCanceledException)
                {
                    return $"cancelled aborted={context.RequestAborted.IsCancellationRequested} lost={context.Features.Get<IDistributedLockFeature>()!.LostToken.IsCancellationRequested}";
                }
            }).WithDistributedLock("lost:{id}"),
            provider: fake);

        var pending = app.Client.GetAsync($"/lost/{TestNamespace.NewId()}");
        await app.Gates.WaitEnteredAsync("lost");
        var handle = Assert.Single(fake.Live);
        handle.MarkLost();
        var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("cancelled aborted=True lost=True", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, fake.Released);
    }

    [Fact]
    public async Task LockNotLost_RequestAbortedStaysQuiet()
    {
        var fake = InstrumentedLockProvider.InProcess();
        await using var app = await TestApp.StartAsync(
            a => a.MapGet("/calm/{id}", (HttpContext context) => $"aborted={context.RequestAborted.IsCancellationRequested} cancellable={context.RequestAborted.CanBeCanceled}")
                .WithDistributedLock("calm:{id}"),
            provider: fake);

        Assert.Equal("aborted=False cancellable=True", await app.Client.GetStringAsync($"/calm/{TestNamespace.NewId()}"));
    }

    [Fact]
    public async Task HandlerThrows_LockIsReleased_AndTheNextRequestGetsIt()
    {
        var fake = InstrumentedLockProvider.InProcess();
        await using var faked = await TestApp.StartAsync(
            a => a.MapGet("/boom/{id}", string () => throw new InvalidOperationException("boom")).WithDistributedLock("boom:{id}"),
            provider: fake);
        Assert.Equal(HttpStatusCode.InternalServerError, (await faked.Client.GetAsync($"/boom/{TestNamespace.NewId()}")).StatusCode);
        Assert.Equal(1, fake.Released);

        var fail = true;
        await using var app = await TestApp.StartAsync(a => a
            .MapGet("/boom/{id}", (HttpContext c) => fail ? throw new InvalidOperationException("boom") : TestApp.KeyOf(c))
            .WithDistributedLock("boom:{id}"));
        var id = TestNamespace.NewId();
        Assert.Equal(HttpStatusCode.InternalServerError, (await app.Client.GetAsync($"/boom/{id}")).StatusCode);
        fail = false;
        var next = await app.Client.GetAsync($"/boom/{id}");

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal($"boom:{id}", await next.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ClientDisconnects_HandlerIsCancelled_AndTheLockIsReleased()
    {
        await using var app = await TestApp.StartAsync(a => a
            .MapGet("/slow/{id}", async (HttpContext context, Gates gates, string gate) =>
            {
                await gates.HoldAsync(gate, context.RequestAborted);
                return TestApp.KeyOf(context);
            })
            .WithDistributedLock("slow:{id}"));
        var id = TestNamespace.NewId();
        using var abort = new CancellationTokenSource();
        var pending = app.Client.GetAsync($"/slow/{id}?gate=first", abort.Token);
        await app.Gates.WaitEnteredAsync("first");
        Assert.Equal(HttpStatusCode.Conflict, (await app.Client.GetAsync($"/slow/{id}?gate=during")).StatusCode);

        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await app.Gates.WaitCancelledAsync("first");

        app.Gates.Release("next");
        await Poll.UntilAsync(
            async () => (await app.Client.GetAsync($"/slow/{id}?gate=next")).StatusCode == HttpStatusCode.OK,
            "the aborted request released the lock");
    }

    [Fact]
    public async Task ClientDisconnectsWhileWaiting_StopsWaitingWithoutRunningTheHandler()
    {
        var recording = new InstrumentedLockProvider(TestLockBackend.CreateProvider());
        await using var app = await TestApp.StartAsync(
            a => a.MapGet("/queue/{id}", async (HttpContext context, Gates gates, string gate) =>
            {
                await gates.HoldAsync(gate, context.RequestAborted);
                return TestApp.KeyOf(context);
            }).WithDistributedLock("queue:{id}", o => o.WaitTimeout = Timeout.InfiniteTimeSpan),
            provider: recording);
        var id = TestNamespace.NewId();
        var holder = app.Client.GetAsync($"/queue/{id}?gate=holder");
        await app.Gates.WaitEnteredAsync("holder");
        using var abort = new CancellationTokenSource();
        var waiter = app.Client.GetAsync($"/queue/{id}?gate=waiter", abort.Token);
        await Poll.UntilAsync(() => recording.Attempts == 2, "the second request waits for the lock");

        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        app.Gates.Release("holder");
        Assert.Equal(HttpStatusCode.OK, (await holder).StatusCode);

        app.Gates.Release("third");
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/queue/{id}?gate=third")).StatusCode);
        Assert.False(app.Gates.WasEntered("waiter"));
    }

    [Fact]
    public async Task StreamedResult_KeepsTheLockUntilTheBodyIsWritten()
    {
        var gates = new Gates();
        await using var app = await TestApp.StartAsync(
            a => a.MapGet("/stream/{id}", (HttpContext context) => Stream(gates, context.RequestAborted)).WithDistributedLock("stream:{id}"),
            gates: gates);
        var id = TestNamespace.NewId();

        // The handler has returned; its IAsyncEnumerable result is being written when the gate is entered.
        var pending = app.Client.GetAsync($"/stream/{id}");
        await gates.WaitEnteredAsync("stream");
        var during = await app.Client.GetAsync($"/stream/{id}");
        gates.Release("stream");
        var response = await pending;

        Assert.Equal(HttpStatusCode.Conflict, during.StatusCode);
        Assert.Equal("[\"first\",\"last\"]", await response.Content.ReadAsStringAsync());
        await Poll.UntilAsync(async () => (await app.Client.GetAsync($"/stream/{id}")).StatusCode == HttpStatusCode.OK, "the streamed request released the lock");

        static async IAsyncEnumerable<string> Stream(Gates gates, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return "first";
            await gates.HoldAsync("stream", cancellationToken);
            yield return "last";
        }
    }
}

using System.Reflection;
using System.Security.Claims;
using Coordination.Locks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.AspNetCore.Tests.Infrastructure;

/// <summary>
/// A small app on <see cref="TestServer"/>: lock provider from <see cref="TestLockBackend"/> (or a given fake),
/// <c>AddDistributedLockEndpoints</c> + <c>UseDistributedLocks</c>, a test "authentication" that turns the
/// <c>X-Test-User</c> header into a <c>sub</c> claim, an outer handler that turns exceptions into 500, and only the
/// controllers a test names.
/// </summary>
internal sealed class TestApp : IAsyncDisposable
{
    private TestApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
        Client.Timeout = TimeSpan.FromSeconds(30);
        Gates = app.Services.GetRequiredService<Gates>();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public Gates Gates { get; }

    public static async Task<TestApp> StartAsync(
        Action<WebApplication>? map = null,
        Action<DistributedLockEndpointOptions>? options = null,
        IDistributedLockProvider? provider = null,
        Type[]? controllers = null,
        bool useLocks = true,
        Gates? gates = null,
        bool locksBeforeRouting = false,
        Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        var locks = provider ?? TestLockBackend.CreateProvider();
        builder.Services.AddSingleton(locks);
        if (locks is IDistributedSemaphoreProvider semaphores)
        {
            builder.Services.AddSingleton(semaphores);
        }

        services?.Invoke(builder.Services);
        builder.Services.AddSingleton(gates ?? new Gates());
        builder.Services.AddDistributedLockEndpoints(options);
        if (controllers is not null)
        {
            builder.Services.AddControllers().ConfigureApplicationPartManager(parts =>
            {
                parts.ApplicationParts.Clear();
                parts.ApplicationParts.Add(new AssemblyPart(typeof(TestApp).Assembly));
                parts.FeatureProviders.Clear();
                parts.FeatureProviders.Add(new OnlyTheseControllers(controllers));
            });
        }

        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsync("handler failed");
            }
        });
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue("X-Test-User", out var user))
            {
                context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", user.ToString())], "Test"));
            }

            return next(context);
        });
        if (useLocks)
        {
            app.UseDistributedLocks();
        }

        if (locksBeforeRouting)
        {
            app.UseRouting(); // misplaced on purpose: the middleware above sees no endpoint
        }

        map?.Invoke(app);
        if (controllers is not null)
        {
            app.MapControllers();
        }

        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new TestApp(app);
    }

    /// <summary>The lock key the request ran under, as handlers in these tests report it.</summary>
    public static string KeyOf(HttpContext context) => context.Features.Get<IDistributedLockFeature>()?.Key ?? "unlocked";

    public async ValueTask DisposeAsync()
    {
        Gates.ReleaseAll();
        Client.Dispose();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await App.StopAsync(stop.Token);
        }

        await App.DisposeAsync();
    }

    private sealed class OnlyTheseControllers(Type[] controllers) : ControllerFeatureProvider
    {
        protected override bool IsController(TypeInfo typeInfo) => controllers.Contains(typeInfo.AsType());
    }
}

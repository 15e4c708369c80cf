using System.Text.Json;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coordination.AspNetCore.Tests.Dashboard;

/// <summary>
/// A real Kestrel app on 127.0.0.1 (random port) with the library against the test servers in its own namespace:
/// Hybrid locks, a service registration, a leader election, and the dashboard mapped by <paramref name="map"/>.
/// </summary>
internal sealed class DashboardApp : IAsyncDisposable
{
    private DashboardApp(WebApplication app, TestNamespace ns)
    {
        App = app;
        Namespace = ns;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public TestNamespace Namespace { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public IDistributedLockProvider Locks => App.Services.GetRequiredService<IDistributedLockProvider>();

    public IDistributedSemaphoreProvider Semaphores => App.Services.GetRequiredService<IDistributedSemaphoreProvider>();

    public static async Task<DashboardApp> StartAsync(Func<WebApplication, IEndpointConventionBuilder>? map = null, string election = "billing")
    {
        var servers = TestServers.Current;
        var ns = TestNamespace.Create();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddHybridCoordination(o =>
            {
                o.Redis = servers.Redis;
                o.ZooKeeper = servers.ZooKeeper;
                o.RedisPrefix = ns.KeyPrefix;
                o.ZooKeeperRoot = ns.Chroot + "/coordination";
            })
            .AddServiceRegistration("dashboard-test")
            .AddLeaderElection(election);
        var app = builder.Build();
        (map ?? (a => a.MapCoordinationDashboard()))(app);
        await app.StartAsync();
        return new DashboardApp(app, ns);
    }

    public async Task<JsonElement> SnapshotAsync(string path = "coordination/api/snapshot")
    {
        var body = await Client.GetStringAsync(new Uri(path, UriKind.Relative));
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

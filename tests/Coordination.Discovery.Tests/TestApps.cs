using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coordination.Discovery.Tests;

/// <summary>Builds the apps of the tests: registered instances (real Kestrel on 127.0.0.1) and discovering clients.</summary>
internal static class TestApps
{
    /// <summary>Starts a web app that registers as <paramref name="instanceId"/> of <paramref name="service"/> and answers GET / with its id.</summary>
    public static async Task<WebApplication> StartInstanceAsync(
        (string Root, string Prefix) scope,
        string service,
        string instanceId,
        Action<ServiceRegistrationOptions>? configure = null,
        string url = "http://127.0.0.1:0",
        Action<WebApplicationBuilder>? build = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(Environment.GetEnvironmentVariable("DISCOVERY_TEST_LOG") is null ? LogLevel.Warning : LogLevel.Debug);
        builder.Services.AddHybridCoordination(o => DiscoveryEnv.Configure(o, scope)).AddServiceRegistration(service, o =>
        {
            o.InstanceId = instanceId;
            configure?.Invoke(o);
        });
        build?.Invoke(builder);
        var app = builder.Build();
        app.Urls.Add(url);
        app.MapGet("/", () => instanceId);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    /// <summary>A client process: discovery plus an HttpClient named <paramref name="service"/> whose base address is <c>http://service</c>.</summary>
    public static ServiceProvider BuildClient((string Root, string Prefix) scope, string service, Action<HybridCoordinationOptions>? tweak = null, Action<CoordinationServiceDiscoveryOptions>? discovery = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddHybridCoordination(o =>
        {
            DiscoveryEnv.Configure(o, scope);
            tweak?.Invoke(o);
        }).AddServiceDiscovery(discovery);
        services.AddServiceDiscovery();
        services.AddHttpClient(service, c =>
        {
            c.BaseAddress = new Uri("http://" + service);
            c.Timeout = TimeSpan.FromSeconds(10);
        }).AddServiceDiscovery();
        return services.BuildServiceProvider();
    }

    public static ICoordinationConnections Connections(this WebApplication app) => app.Services.GetRequiredService<ICoordinationConnections>();

    /// <summary>GETs / through discovery <paramref name="times"/> times and returns the instance ids that answered.</summary>
    public static async Task<HashSet<string>> ReachAsync(ServiceProvider client, string service, int times) =>
        [.. await ResponsesAsync(client, service, times)];

    /// <summary>GETs / through discovery <paramref name="times"/> times, one after the other, and returns who answered, in order.</summary>
    public static async Task<List<string>> ResponsesAsync(ServiceProvider client, string service, int times)
    {
        var http = client.GetRequiredService<IHttpClientFactory>().CreateClient(service);
        var answers = new List<string>();
        for (var i = 0; i < times; i++)
        {
            answers.Add(await http.GetStringAsync("/"));
        }

        return answers;
    }

    public static async Task<string[]> InstanceIdsAsync(ServiceProvider client, string service)
    {
        var instances = await client.GetRequiredService<IServiceDiscovery>().GetInstancesAsync(service);
        return [.. instances.Select(i => i.InstanceId)];
    }

    /// <summary>Reads the bound address of a started app.</summary>
    public static string Address(this WebApplication app) => app.Urls.Single();
}

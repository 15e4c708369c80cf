using Coordination.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.ServiceDiscovery;

namespace Coordination.Discovery.Tests;

/// <summary>The Microsoft.Extensions.ServiceDiscovery side: scheme choice, change tokens, load balancing, health gating.</summary>
public sealed class EndpointProviderTests
{
    private const string Service = "billing";

    [Fact]
    public async Task Resolver_PrefersTheFirstSchemeEachInstanceOffers()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a", o =>
        {
            o.Endpoints.Add("http://a.example:8080");
            o.Endpoints.Add("https://a.example:8443");
        });
        await using var b = await TestApps.StartInstanceAsync(scope, Service, "b", o => o.Endpoints.Add("http://b.example:8080"));
        await using var client = TestApps.BuildClient(scope, Service);
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 2, "both discovered");
        var resolver = client.GetRequiredService<ServiceEndpointResolver>();

        var secure = await resolver.GetEndpointsAsync($"https+http://{Service}", default);
        var plain = await resolver.GetEndpointsAsync($"http://{Service}", default);

        Assert.Equal(["https://a.example:8443/", "http://b.example:8080/"], Uris(secure));
        Assert.Equal(["http://a.example:8080/", "http://b.example:8080/"], Uris(plain));
    }

    [Fact]
    public async Task ChangeToken_FiresWhenAnInstanceRegisters()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var client = TestApps.BuildClient(scope, Service);
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 1, "a discovered");
        var resolver = client.GetRequiredService<ServiceEndpointResolver>();
        var before = await resolver.GetEndpointsAsync($"http://{Service}", default);
        Assert.False(before.ChangeToken.HasChanged);

        await using var b = await TestApps.StartInstanceAsync(scope, Service, "b");

        await Poll.UntilAsync(() => before.ChangeToken.HasChanged, "change token fired");
        var after = await resolver.GetEndpointsAsync($"http://{Service}", default);
        Assert.Equal([a.Address() + "/", b.Address() + "/"], Uris(after));
    }

    [Fact]
    public async Task HttpClient_ByDefault_TakesTheInstancesInTurn()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var b = await TestApps.StartInstanceAsync(scope, Service, "b");
        await using var client = TestApps.BuildClient(scope, Service);
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 2, "both discovered");

        var answers = await TestApps.ResponsesAsync(client, Service, 8);

        Assert.All(answers.Zip(answers.Skip(1)), pair => Assert.NotEqual(pair.First, pair.Second));
    }

    [Fact]
    public async Task HttpClient_WithRandomBalancing_ReachesBothInNoFixedTurn()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var b = await TestApps.StartInstanceAsync(scope, Service, "b");
        await using var client = TestApps.BuildClient(scope, Service, discovery: d => d.LoadBalancing = ServiceLoadBalancing.Random);
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 2, "both discovered");

        var answers = await TestApps.ResponsesAsync(client, Service, 40);

        // Round robin would alternate strictly; 40 fair coin flips alternate (or miss an instance) with odds below 1e-11.
        Assert.Equal(["a", "b"], answers.Distinct().Order());
        Assert.Contains(answers.Zip(answers.Skip(1)), pair => pair.First == pair.Second);
    }

    [Fact]
    public async Task WaitForHealthy_WithholdsTheNodeUntilHealthy_ThenTracksTheStatus()
    {
        var scope = DiscoveryEnv.NewScope();
        var gate = new HealthGate();
        await using var a = await TestApps.StartInstanceAsync(
            scope,
            Service,
            "a",
            o =>
            {
                o.WaitForHealthy = true;
                o.HealthCheckInterval = TimeSpan.FromMilliseconds(50);
            },
            build: b => b.Services.AddHealthChecks().AddCheck("gate", gate.Check));
        await using var zk = await DiscoveryEnv.ConnectAsync();
        var path = $"{scope.Root}/services/{Service}/a";

        await Poll.UntilAsync(() => gate.Checks >= 3, "health checked three times");
        Assert.Null(await zk.ExistsAsync(path));

        gate.Status = HealthStatus.Healthy;
        await Poll.UntilAsync(async () => await zk.ExistsAsync(path) is not null, "registered once healthy");
        await using var client = TestApps.BuildClient(scope, Service);
        Assert.Equal(ServiceInstanceStatus.Up, (await client.GetRequiredService<IServiceDiscovery>().GetInstancesAsync(Service)).Single().Status);

        gate.Status = HealthStatus.Unhealthy;
        await Poll.UntilAsync(
            async () => (await client.GetRequiredService<IServiceDiscovery>().GetInstancesAsync(Service)).Single().Status == ServiceInstanceStatus.Unhealthy,
            "status unhealthy");
        var endpoints = await client.GetRequiredService<ServiceEndpointResolver>().GetEndpointsAsync($"http://{Service}", default);
        // Only the pass-through provider's fallback (the bare name) may be left; a's address is not offered.
        Assert.DoesNotContain(endpoints.Endpoints, e => e.EndPoint is UriEndPoint u && u.Uri.Port == new Uri(a.Address()).Port);
    }

    private static string[] Uris(ServiceEndpointSource source) =>
        [.. source.Endpoints.Select(e => ((UriEndPoint)e.EndPoint).Uri.ToString())];

    private sealed class HealthGate
    {
        private int _checks;
        private volatile int _status = (int)HealthStatus.Unhealthy;

        public int Checks => Volatile.Read(ref _checks);

        public HealthStatus Status
        {
            get => (HealthStatus)_status;
            set => _status = (int)value;
        }

        public HealthCheckResult Check()
        {
            Interlocked.Increment(ref _checks);
            return new HealthCheckResult(Status);
        }
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.Discovery.Tests;

/// <summary>Bad input is refused with a message naming the bad value; none of these reach a server.</summary>
public sealed class RegistrationValidationTests
{
    [Theory]
    [InlineData("Orders")]
    [InlineData("orders api")]
    [InlineData("orders/api")]
    [InlineData("..")]
    [InlineData("ordérs")]
    public void AddServiceRegistration_WithInvalidName_ThrowsNamingTheName(string name)
    {
        var builder = new ServiceCollection().AddHybridCoordination();

        var ex = Assert.Throws<ArgumentException>(() => builder.AddServiceRegistration(name));

        Assert.Contains($"'{name}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddServiceRegistration_WithEmptyOrTooLongName_Throws()
    {
        var builder = new ServiceCollection().AddHybridCoordination();

        Assert.Throws<ArgumentException>(() => builder.AddServiceRegistration(""));
        var ex = Assert.Throws<ArgumentException>(() => builder.AddServiceRegistration(new string('a', 129)));
        Assert.Contains("129 characters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddServiceRegistration_TwiceForOneService_Throws()
    {
        var builder = new ServiceCollection().AddHybridCoordination().AddServiceRegistration("orders");

        var ex = Assert.Throws<InvalidOperationException>(() => builder.AddServiceRegistration("orders"));

        Assert.Contains("'orders'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a uri", "'not a uri'")]
    [InlineData("", "is empty")]
    [InlineData("orders:8080", "'orders:8080'")]
    [InlineData("http://h:1/?q=1", "query")]
    public async Task Start_WithUnparseableEndpoint_FailsNamingTheEndpoint(string endpoint, string expected)
    {
        using var host = BuildHost(o => o.Endpoints.Add(endpoint));

        var ex = await Assert.ThrowsAsync<ServiceDiscoveryException>(() => host.StartAsync());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'orders'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithoutEndpointsOrWebServer_FailsWithClearError()
    {
        using var host = BuildHost(_ => { });

        var ex = await Assert.ThrowsAsync<ServiceDiscoveryException>(() => host.StartAsync());

        Assert.Contains("no endpoints to announce", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithInvalidInstanceId_FailsNamingTheId()
    {
        using var host = BuildHost(o =>
        {
            o.InstanceId = "Node#1";
            o.Endpoints.Add("http://127.0.0.1:1");
        });

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => host.StartAsync());

        Assert.Contains("'Node#1'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WaitForHealthyWithoutHealthChecks_FailsWithClearError()
    {
        using var host = BuildHost(o =>
        {
            o.WaitForHealthy = true;
            o.Endpoints.Add("http://127.0.0.1:1");
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("AddHealthChecks", ex.Message, StringComparison.Ordinal);
    }

    private static IHost BuildHost(Action<ServiceRegistrationOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddHybridCoordination(o => DiscoveryEnv.Configure(o, DiscoveryEnv.NewScope())).AddServiceRegistration("orders", configure);
        return builder.Build();
    }
}

using System.Collections.Concurrent;
using System.Text;
using Coordination.Configuration;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static Coordination.Tests.Configuration.ConfigTestEnvironment;

namespace Coordination.Tests.Configuration;

/// <summary>The dependency-injection route: AddHybridCoordination(...).AddZooKeeperConfiguration(path) in a real host.</summary>
public sealed class HostIntegrationTests
{
    public sealed class PaymentOptions
    {
        public int Retries { get; set; }
    }

    private static IHost BuildHost(string root, string prefix, string? zooKeeper = null, Action<ZooKeeperConfigurationOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddHybridCoordination(o =>
        {
            o.Mode = LockMode.InProcess;
            o.Redis = RedisEndpoint;
            o.ZooKeeper = zooKeeper ?? ZooKeeperEndpoint;
            o.RedisPrefix = prefix;
            o.ConnectTimeout = TimeSpan.FromSeconds(1);
            o.OperationTimeout = TimeSpan.FromSeconds(3);
            o.SessionTimeout = TimeSpan.FromSeconds(4);
        })
        .AddZooKeeperConfiguration(root, o =>
        {
            o.StartupTimeout = TimeSpan.FromSeconds(2);
            configure?.Invoke(o);
        })
        .AddConfigurationHealthCheck();
        builder.Services.Configure<PaymentOptions>(builder.Configuration.GetSection("Payments"));
        return builder.Build();
    }

    [Fact]
    public async Task AddZooKeeperConfiguration_FeedsOptionsMonitor_AndOnChangeFires()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        using var host = BuildHost(root, NewPrefix());
        await host.StartAsync();
        try
        {
            var monitor = host.Services.GetRequiredService<IOptionsMonitor<PaymentOptions>>();
            Assert.Equal(3, monitor.CurrentValue.Retries);
            var seen = new ConcurrentQueue<int>();
            using var _ = monitor.OnChange(o => seen.Enqueue(o.Retries));

            await zk.SetDataAsync(root + "/Payments/Retries", Encoding.UTF8.GetBytes("6"));

            await Poll.UntilAsync(() => seen.Contains(6), "OnChange with Retries = 6");
            Assert.Equal("6", host.Services.GetRequiredService<IConfiguration>()["Payments:Retries"]);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task WebApplication_ServesZooKeeperValuesFromItsFirstRequest()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "4");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddHybridCoordination(o =>
        {
            o.Mode = LockMode.InProcess;
            o.Redis = RedisEndpoint;
            o.ZooKeeper = ZooKeeperEndpoint;
            o.RedisPrefix = NewPrefix();
        }).AddZooKeeperConfiguration(root);
        builder.Services.Configure<PaymentOptions>(builder.Configuration.GetSection("Payments"));
        await using var app = builder.Build();
        app.MapGet("/retries", (IOptionsSnapshot<PaymentOptions> o) => o.Value.Retries);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            Assert.Equal("4", await http.GetStringAsync(new Uri("/retries", UriKind.Relative)));

            await zk.SetDataAsync(root + "/Payments/Retries", Encoding.UTF8.GetBytes("5"));
            await Poll.UntilAsync(() => app.Services.GetRequiredService<IOptionsMonitor<PaymentOptions>>().CurrentValue.Retries == 5, "the monitor to see 5");
            Assert.Equal("5", await http.GetStringAsync(new Uri("/retries", UriKind.Relative)));
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Writer_AndHealthCheck_AreRegistered()
    {
        var root = NewRoot();
        using var host = BuildHost(root, NewPrefix(), configure: o => o.Optional = true);
        await host.StartAsync();
        try
        {
            var writer = host.Services.GetRequiredService<IZooKeeperConfigurationWriter>();
            Assert.Same(writer, host.Services.GetRequiredKeyedService<IZooKeeperConfigurationWriter>(root));
            await writer.SetAsync("Payments:Retries", "2");
            Assert.Equal(2, host.Services.GetRequiredService<IOptionsMonitor<PaymentOptions>>().CurrentValue.Retries);

            var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            var entry = report.Entries[ZooKeeperConfigurationHealthCheck.DefaultName];
            Assert.Equal(HealthStatus.Healthy, entry.Status);
            Assert.Equal("Live", entry.Data[root]);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task RequiredSource_WithBothServersUnreachable_FailsHostStart()
    {
        var root = NewRoot();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddHybridCoordination(o =>
        {
            o.Mode = LockMode.InProcess;
            o.Redis = ClosedEndpoint();
            o.ZooKeeper = ClosedEndpoint();
            o.ConnectTimeout = TimeSpan.FromSeconds(1);
        }).AddZooKeeperConfiguration(root, o => o.StartupTimeout = TimeSpan.FromSeconds(1));
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains(root, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Optional", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddZooKeeperConfiguration_WithAnInvalidPath_ThrowsNamingIt()
    {
        var services = new ServiceCollection();
        var ex = Assert.Throws<ArgumentException>(() => services.AddHybridCoordination().AddZooKeeperConfiguration("config/orders"));
        Assert.Contains("'config/orders'", ex.Message, StringComparison.Ordinal);
    }
}

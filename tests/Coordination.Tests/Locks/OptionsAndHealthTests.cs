using Coordination.Locks;
using Coordination.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Coordination.Tests.Locks;

public sealed class OptionsAndHealthTests
{
    private static ServiceProvider Build(Action<HybridCoordinationOptions> configure, bool health = false)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var b = services.AddHybridCoordination(configure);
        if (health)
        {
            b.AddHealthChecks();
        }

        return services.BuildServiceProvider();
    }

    [Fact]
    public void BadOptions_FailValidation_WithMessagesNamingOptionAndValue()
    {
        using var sp = Build(o =>
        {
            o.Redis = null;
            o.ZooKeeper = "host:99999";
            o.RedisPrefix = "has space";
            o.ZooKeeperRoot = "relative";
            o.SessionTimeout = TimeSpan.FromMilliseconds(10);
            o.RedisLease = TimeSpan.Zero;
            o.MaxKeyLength = 0;
        });
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<HybridCoordinationOptions>>().Value);
        var all = string.Join("\n", ex.Failures);
        Assert.Contains("Coordination:Redis is required in Hybrid mode", all, StringComparison.Ordinal);
        Assert.Contains("Coordination:ZooKeeper 'host:99999' is invalid", all, StringComparison.Ordinal);
        Assert.Contains("Coordination:RedisPrefix 'has space'", all, StringComparison.Ordinal);
        Assert.Contains("Coordination:ZooKeeperRoot 'relative'", all, StringComparison.Ordinal);
        Assert.Contains("Coordination:SessionTimeout '00:00:00.0100000'", all, StringComparison.Ordinal);
        Assert.Contains("Coordination:RedisLease '00:00:00'", all, StringComparison.Ordinal);
        Assert.Contains("Coordination:MaxKeyLength '0'", all, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_BindFromTheCoordinationSection()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordination:Redis"] = "127.0.0.1:1",
            ["Coordination:ZooKeeper"] = "127.0.0.1:2/app",
            ["Coordination:Mode"] = "ZooKeeperOnly",
            ["Coordination:RedisLease"] = "00:00:12",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(config);
        services.AddHybridCoordination();
        using var sp = services.BuildServiceProvider();
        var o = sp.GetRequiredService<IOptions<HybridCoordinationOptions>>().Value;
        Assert.Equal(LockMode.ZooKeeperOnly, o.Mode);
        Assert.Equal("127.0.0.1:2/app", o.ZooKeeper);
        Assert.Equal(TimeSpan.FromSeconds(12), o.RedisLease);
    }

    [Fact]
    public async Task HealthChecks_ReportHealthy_OnLiveServers()
    {
        await using var sp = Build(o =>
        {
            o.Redis = TestEnv.Redis;
            o.ZooKeeper = TestEnv.ZooKeeper;
        }, health: true);
        var locks = sp.GetRequiredService<IDistributedLockProvider>();
        await using (await locks.AcquireAsync("health-" + TestNamespace.NewId()))
        {
        }

        var report = await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Equal(["coordination-mode", "coordination-redis", "coordination-zookeeper"], report.Entries.Keys.Order());
    }

    [Fact]
    public async Task HealthChecks_ReportDegradedRedis_AndUnhealthyZooKeeper()
    {
        var deadRedis = TestEnv.FreePort();
        var deadZk = TestEnv.FreePort();
        await using var sp = Build(o =>
        {
            o.Redis = $"127.0.0.1:{deadRedis},connectTimeout=300";
            o.ZooKeeper = $"127.0.0.1:{deadZk}";
            o.ConnectTimeout = TimeSpan.FromMilliseconds(300);
            o.OperationTimeout = TimeSpan.FromMilliseconds(300);
        }, health: true);
        var locks = sp.GetRequiredService<IDistributedLockProvider>();
        await Assert.ThrowsAsync<LockUnavailableException>(async () => await locks.TryAcquireAsync("k"));
        var report = await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, report.Entries["coordination-redis"].Status);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["coordination-zookeeper"].Status);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["coordination-mode"].Status);
        Assert.Contains("fail closed", report.Entries["coordination-mode"].Description, StringComparison.Ordinal);
    }
}

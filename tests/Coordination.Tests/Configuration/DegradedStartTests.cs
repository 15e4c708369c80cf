using System.Text;
using Coordination.Configuration;
using Coordination.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using static Coordination.Tests.Configuration.ConfigTestEnvironment;

namespace Coordination.Tests.Configuration;

public sealed class DegradedStartTests
{
    private static HealthCheckResult Health(ZooKeeperConfigurationProvider provider) =>
        ZooKeeperConfigurationHealthCheck.Evaluate([provider], HealthStatus.Unhealthy);

    /// <summary>Loads the tree once with a live instance so Redis holds its copy.</summary>
    private static async Task<long> SeedAsync(string root, string prefix, params (string Path, string Value)[] nodes)
    {
        await using var zk = await AdminAsync();
        foreach (var (path, value) in nodes)
        {
            await PutAsync(zk, root + path, value);
        }

        using var live = Build(Options(root, prefix));
        return Provider(live).Version;
    }

    [Fact]
    public async Task ZooKeeperUnreachable_ServesTheRedisCopy_AndReportsDegraded()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        var version = await SeedAsync(root, prefix, ("/Payments/Retries", "3"), ("/Shipping", """{"Carrier":"dhl"}"""));

        using var config = Build(Options(root, prefix, zooKeeper: ClosedEndpoint()));

        var provider = Provider(config);
        Assert.Equal("3", config["Payments:Retries"]);
        Assert.Equal("dhl", config["Shipping:Carrier"]);
        Assert.Equal(ZooKeeperConfigurationState.Cached, provider.State);
        Assert.Equal(version, provider.Version);
        var health = Health(provider);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("last known copy", health.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void BothUnreachable_OptionalSource_StartsEmptyAndUnhealthy()
    {
        using var config = Build(Options(NewRoot(), NewPrefix(), zooKeeper: ClosedEndpoint(), redis: ClosedEndpoint(), more: o =>
        {
            o.Optional = true;
            o.StartupTimeout = TimeSpan.FromSeconds(1);
        }));

        var provider = Provider(config);
        Assert.Empty(ConfigurationExtensions.AsEnumerable(config));
        Assert.Equal(ZooKeeperConfigurationState.Empty, provider.State);
        Assert.Equal(HealthStatus.Unhealthy, Health(provider).Status);
    }

    [Fact]
    public void BothUnreachable_RequiredSource_FailsStartupWithAClearMessage()
    {
        var root = NewRoot();
        var zk = ClosedEndpoint();

        var ex = Assert.Throws<InvalidOperationException>(() => Build(Options(root, NewPrefix(), zooKeeper: zk, redis: ClosedEndpoint(), more: o => o.StartupTimeout = TimeSpan.FromSeconds(1))));

        Assert.Contains(root, ex.Message, StringComparison.Ordinal);
        Assert.Contains(zk, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Redis copy could not be read", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Optional", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZooKeeperUnreachable_NoRedisCopy_RequiredSourceFails()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Build(Options(NewRoot(), NewPrefix(), zooKeeper: ClosedEndpoint(), more: o => o.StartupTimeout = TimeSpan.FromSeconds(1))));
        Assert.Contains("Redis has no copy", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZooKeeperReturns_SourceGoesLive_AndCatchesUpChangesMadeMeanwhile()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        await SeedAsync(root, prefix, ("/Payments/Retries", "3"));
        await using var gate = new TcpGate(ZooKeeperEndpoint, open: false);
        using var config = Build(Options(root, prefix, zooKeeper: gate.Endpoint));
        var provider = Provider(config);
        Assert.Equal(ZooKeeperConfigurationState.Cached, provider.State);
        Assert.Equal("3", config["Payments:Retries"]);

        // Changed while this instance cannot reach ZooKeeper.
        await using (var zk = await AdminAsync())
        {
            await zk.SetDataAsync(root + "/Payments/Retries", Encoding.UTF8.GetBytes("4"));
            await PutAsync(zk, root + "/Payments/Gateway", "b");
        }

        gate.Open();

        await Poll.UntilAsync(() => provider.State == ZooKeeperConfigurationState.Live && config["Payments:Retries"] == "4" && config["Payments:Gateway"] == "b", "live again with the missed changes");
        Assert.Equal(HealthStatus.Healthy, Health(provider).Status);
    }

    [Fact]
    public async Task ConnectionLostWhileRunning_ChangesMadeMeanwhileArriveAfterReconnect()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        await using var gate = new TcpGate(ZooKeeperEndpoint, open: true);
        using var config = Build(Options(root, NewPrefix(), zooKeeper: gate.Endpoint, more: o => o.SessionTimeout = TimeSpan.FromSeconds(20)));
        var provider = Provider(config);
        Assert.Equal("3", config["Payments:Retries"]);

        gate.Close();
        await Poll.UntilAsync(() => provider.State == ZooKeeperConfigurationState.Cached, "the source to report it is no longer live");
        Assert.Equal(HealthStatus.Degraded, Health(provider).Status);
        await zk.SetDataAsync(root + "/Payments/Retries", Encoding.UTF8.GetBytes("8"));
        gate.Open();

        await Poll.UntilAsync(() => config["Payments:Retries"] == "8", "the change made while disconnected");
        await Poll.UntilAsync(() => provider.State == ZooKeeperConfigurationState.Live, "live again");
    }

    [Fact]
    public async Task CachedInstance_RefreshesFromRedis_WhenAnotherInstanceWrites()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        await SeedAsync(root, prefix, ("/Payments/Retries", "3"));
        using var live = Build(Options(root, prefix));
        using var cached = Build(Options(root, prefix, zooKeeper: ClosedEndpoint()));
        Assert.Equal(ZooKeeperConfigurationState.Cached, Provider(cached).State);
        var changes = new List<ZooKeeperConfigurationChange>();
        using var _ = cached.OnConfigurationChanged("Payments", c => { lock (changes) { changes.Add(c); } });

        await Provider(live).Writer.SetAsync("Payments:Retries", "12");

        // Only Redis pub/sub can tell the cached instance: it cannot reach ZooKeeper.
        await Poll.UntilAsync(() => cached["Payments:Retries"] == "12", "the cached instance to refresh from Redis");
        lock (changes)
        {
            Assert.Contains(changes, c => c.ChangedKeys.Contains("Payments:Retries"));
        }

        Assert.Equal(ZooKeeperConfigurationState.Cached, Provider(cached).State);
    }
}

using Coordination.Configuration;
using Microsoft.Extensions.Configuration;

namespace Coordination.Tests.Configuration;

public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("", "127.0.0.1:2181", null, "Path")]
    [InlineData("/", "127.0.0.1:2181", null, "Path '/'")]
    [InlineData("config/orders", "127.0.0.1:2181", null, "'config/orders'")]
    [InlineData("/config/orders", "", null, "ZooKeeper is required")]
    [InlineData("/config/orders", "127.0.0.1:2181", "nocolon", "WriterCredentials")]
    public void AddZooKeeper_WithAnInvalidOption_ThrowsNamingIt(string path, string zooKeeper, string? credentials, string expected)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => new ConfigurationBuilder().AddZooKeeper(o =>
        {
            o.Path = path;
            o.ZooKeeper = zooKeeper;
            o.WriterCredentials = credentials;
        }));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddZooKeeper_WithANegativeReloadDelay_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ConfigurationBuilder().AddZooKeeper(o =>
        {
            o.Path = "/config/orders";
            o.ZooKeeper = "127.0.0.1:2181";
            o.ReloadDelay = TimeSpan.FromSeconds(-1);
        }));

        Assert.Contains("ReloadDelay '-00:00:01'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnConfigurationChanged_WithoutAZooKeeperSource_ThrowsAClearError()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection().Build();
        var ex = Assert.Throws<InvalidOperationException>(() => config.OnConfigurationChanged("Payments", _ => { }));
        Assert.Contains("AddZooKeeper", ex.Message, StringComparison.Ordinal);
    }
}

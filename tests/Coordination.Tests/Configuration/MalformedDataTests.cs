using System.Text;
using Coordination.Configuration;
using Coordination.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using static Coordination.Tests.Configuration.ConfigTestEnvironment;

namespace Coordination.Tests.Configuration;

public sealed class MalformedDataTests
{
    [Theory]
    [InlineData("json")]
    [InlineData("utf8")]
    [InlineData("size")]
    public async Task MalformedNode_KeepsTheLastGoodValue_AndHealthNamesThePath(string kind)
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments", """{"Retries": 3}""");
        using var config = Build(Options(root, NewPrefix(), more: o => o.MaxValueBytes = 64));
        var provider = Provider(config);
        Assert.Equal("3", config["Payments:Retries"]);

        byte[] bad = kind switch
        {
            "json" => Encoding.UTF8.GetBytes("""{"Retries": 4,"""),
            "utf8" => [0x7B, 0xC3, 0x28, 0x7D],
            _ => Encoding.UTF8.GetBytes("""{"Retries": 4, "Padding": """ + "\"" + new string('x', 100) + "\"}"),
        };
        await zk.SetDataAsync(root + "/Payments", bad);
        await Poll.UntilAsync(() => provider.MalformedNodes.ContainsKey(root + "/Payments"), "the malformed node to be reported");

        Assert.Equal("3", config["Payments:Retries"]);
        var health = ZooKeeperConfigurationHealthCheck.Evaluate([provider], HealthStatus.Unhealthy);
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains(root + "/Payments", health.Description, StringComparison.Ordinal);

        await zk.SetDataAsync(root + "/Payments", Encoding.UTF8.GetBytes("""{"Retries": 5}"""));
        await Poll.UntilAsync(() => config["Payments:Retries"] == "5", "the fixed value");
        Assert.Empty(provider.MalformedNodes);
        Assert.Equal(HealthStatus.Healthy, ZooKeeperConfigurationHealthCheck.Evaluate([provider], HealthStatus.Unhealthy).Status);
    }

    [Fact]
    public async Task MalformedNodeAtStartup_ContributesNothing_AndOtherKeysLoad()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Broken", "[1, 2");
        await PutAsync(zk, root + "/Fine", "yes");

        using var config = Build(Options(root, NewPrefix()));

        Assert.Equal("yes", config["Fine"]);
        Assert.Null(config["Broken"]);
        Assert.Contains("JSON", Provider(config).MalformedNodes[root + "/Broken"], StringComparison.Ordinal);
    }
}

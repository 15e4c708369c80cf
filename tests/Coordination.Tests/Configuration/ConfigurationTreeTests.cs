using System.Text;
using Coordination.Configuration;
using Coordination.ZooKeeper;

namespace Coordination.Tests.Configuration;

public sealed class ConfigurationTreeTests
{
    private const string Root = "/config/orders";
    private static long _zxid;

    private static ZooKeeperStat Stat() { var z = Interlocked.Increment(ref _zxid); return new ZooKeeperStat(z, z, 0, 0, 0, 0, 0, 0, 0, 0, z); }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void NodeTree_MapsPathsToColonSeparatedKeys()
    {
        var tree = new ConfigurationTree(Root, 1024);
        tree.Set(Root, [], Stat());
        tree.Set(Root + "/Payments", [], Stat());
        tree.Set(Root + "/Payments/Retries", B("3"), Stat());
        tree.Set(Root + "/Name", B("orders"), Stat());

        var data = tree.Flatten();

        Assert.Equal(2, data.Count);
        Assert.Equal("3", data["Payments:Retries"]);
        Assert.Equal("3", data["payments:retries"]);
        Assert.Equal("orders", data["Name"]);
    }

    [Fact]
    public void JsonNode_IsFlattenedUnderItsKey()
    {
        var tree = new ConfigurationTree(Root, 1024);
        tree.Set(Root + "/Payments", B("""{ "Retries": 3, "Gateway": { "Url": "https://pay" }, "Currencies": ["EUR", "USD"], "Live": true, "Empty": {} }"""), Stat());

        var data = tree.Flatten();

        Assert.Equal("3", data["Payments:Retries"]);
        Assert.Equal("https://pay", data["Payments:Gateway:Url"]);
        Assert.Equal("EUR", data["Payments:Currencies:0"]);
        Assert.Equal("USD", data["Payments:Currencies:1"]);
        Assert.Equal("True", data["Payments:Live"]);
        Assert.True(data.ContainsKey("Payments:Empty"));
        Assert.Null(data["Payments:Empty"]);
    }

    [Fact]
    public void JsonOnRoot_IsFlattenedAtTopLevel_PlainDataOnRootIsIgnored()
    {
        var json = new ConfigurationTree(Root, 1024);
        json.Set(Root, B("""{"A":"1"}"""), Stat());
        Assert.Equal("1", json.Flatten()["A"]);

        var plain = new ConfigurationTree(Root, 1024);
        plain.Set(Root, B("just text"), Stat());
        Assert.Empty(plain.Flatten());
    }

    [Fact]
    public void DeeperNode_WinsOverJsonPropertyOfItsParent()
    {
        var tree = new ConfigurationTree(Root, 1024);
        // Deeper node first, to show order of arrival does not matter.
        tree.Set(Root + "/Payments/Retries", B("5"), Stat());
        tree.Set(Root + "/Payments", B("""{"Retries": 3, "Timeout": "00:00:05"}"""), Stat());

        var data = tree.Flatten();

        Assert.Equal("5", data["Payments:Retries"]);
        Assert.Equal("00:00:05", data["Payments:Timeout"]);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("utf8")]
    [InlineData("size")]
    public void MalformedData_KeepsLastGoodValues_AndReportsThePath(string kind)
    {
        var tree = new ConfigurationTree(Root, 64);
        var path = Root + "/Payments";
        Assert.Null(tree.Set(path, B("""{"Retries": 3}"""), Stat()));

        byte[] bad = kind switch
        {
            "json" => B("""{"Retries": 4,"""),
            "utf8" => [0x7B, 0xC3, 0x28, 0x7D],
            _ => B("""{"Retries": 4, "Padding": """ + "\"" + new string('x', 100) + "\"}"),
        };
        var error = tree.Set(path, bad, Stat());

        Assert.NotNull(error);
        Assert.Equal("3", tree.Flatten()["Payments:Retries"]);
        Assert.Equal(error, tree.Errors()[path]);

        Assert.Null(tree.Set(path, B("""{"Retries": 6}"""), Stat()));
        Assert.Equal("6", tree.Flatten()["Payments:Retries"]);
        Assert.Empty(tree.Errors());
    }

    [Fact]
    public void Version_GrowsWithEveryChange_IncludingDeletions()
    {
        var tree = new ConfigurationTree(Root, 1024);
        tree.Set(Root, [], new ZooKeeperStat(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5));
        tree.Set(Root + "/A", B("x"), new ZooKeeperStat(5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 5));
        Assert.Equal(5, tree.Version);

        tree.Remove(Root + "/A");
        tree.UpdateStat(Root, new ZooKeeperStat(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 9));
        Assert.Equal(9, tree.Version);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a::b")]
    [InlineData("a:..:b")]
    public void PathOf_RejectsKeysThatCannotBeZnodes(string key)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => ConfigurationTree.PathOf(Root, key));
        Assert.Contains("key", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void PathOf_IsTheInverseOfTheMapping()
    {
        var tree = new ConfigurationTree(Root, 1024);
        var path = ConfigurationTree.PathOf(Root, "Payments:Retries");
        Assert.Equal(Root + "/Payments/Retries", path);
        Assert.Equal("Payments:Retries", tree.KeyOf(path));
    }
}

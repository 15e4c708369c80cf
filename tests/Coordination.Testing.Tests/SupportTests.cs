using Coordination.Testing;

namespace Coordination.Testing.Tests;

public sealed class SupportTests
{
    [Fact]
    public void ParseEnvFile_ReadsShellAndDotenvLines()
    {
        var values = TestServers.ParseEnvFile("""
            # comment
            COORD_REDIS=127.0.0.1:6390
            export COORD_ZK=127.0.0.1:2191

            COORD_REPO_ROOT='/srv/it'\''s here'
            COORD_SERVERS_DIR="/tmp/a b"
            """);

        Assert.Equal("127.0.0.1:6390", values["COORD_REDIS"]);
        Assert.Equal("127.0.0.1:2191", values["COORD_ZK"]);
        Assert.Equal("/srv/it's here", values["COORD_REPO_ROOT"]);
        Assert.Equal("/tmp/a b", values["COORD_SERVERS_DIR"]);
        Assert.Equal(4, values.Count);
    }

    [Fact]
    public void FromValues_BuildsPortsAndChrootedConnectionStrings()
    {
        var servers = TestServers.FromValues(CoreValues(), "test");

        Assert.Equal(7000, servers.RedisPort);
        Assert.Equal(7001, servers.ZooKeeperPort);
        Assert.Equal([7002, 7003, 7004], servers.EnsemblePorts);
        Assert.Equal(7003, servers.EnsemblePort(2));
        Assert.Equal("127.0.0.1:7001/t-x", servers.ZooKeeperWithChroot("/t-x"));
        Assert.Equal("127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004/t-x", servers.ZooKeeperEnsembleWithChroot("/t-x"));
        Assert.Null(servers.ServersDirectory);
        Assert.Throws<ArgumentException>(() => servers.ZooKeeperWithChroot("t-x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => servers.EnsemblePort(4));
    }

    [Fact]
    public void FromValues_WithoutTheSentinelLines_SaysToRestartTheServersOnlyWhenTheGroupIsUsed()
    {
        var servers = TestServers.FromValues(CoreValues(), "test");

        Assert.False(servers.HasSentinel);
        var ex = Assert.Throws<InvalidOperationException>(() => servers.SentinelRedis);
        Assert.Contains("COORD_SENTINEL is missing from test", ex.Message, StringComparison.Ordinal);
        Assert.Contains("eng/servers.sh start", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromValues_ReadsTheSentinelGroup()
    {
        var values = CoreValues();
        values["COORD_SENTINEL"] = "127.0.0.1:27000";
        values["COORD_SENTINEL_SERVICE"] = "coordination";
        values["COORD_SENTINEL_REDIS"] = "127.0.0.1:7005,127.0.0.1:7006";
        var servers = TestServers.FromValues(values, "test");

        Assert.True(servers.HasSentinel);
        Assert.Equal("127.0.0.1:27000,serviceName=coordination", servers.SentinelRedis);
        Assert.Equal(27000, servers.SentinelPort);
        Assert.Equal([7005, 7006], servers.SentinelNodePorts);
        Assert.Equal(2, new SentinelGroup(servers).NodeOf(7006));
    }

    [Fact]
    public void FromValues_WithoutTheClusterLine_NamesTheFixOnlyWhenTheClusterIsUsed()
    {
        var servers = TestServers.FromValues(CoreValues(), "test");

        Assert.False(servers.HasRedisCluster);
        var ex = Assert.Throws<InvalidOperationException>(() => servers.RedisCluster);
        Assert.Contains("COORD_REDIS_CLUSTER is missing from test", ex.Message, StringComparison.Ordinal);
        Assert.Contains("eng/servers.sh stop, then eng/servers.sh start", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromValues_ReadsTheRedisCluster()
    {
        var values = CoreValues();
        values["COORD_REDIS_CLUSTER"] = "127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103,127.0.0.1:7104,127.0.0.1:7105";
        var servers = TestServers.FromValues(values, "test");

        Assert.True(servers.HasRedisCluster);
        Assert.Equal(values["COORD_REDIS_CLUSTER"], servers.RedisCluster);
        Assert.Equal([7100, 7101, 7102, 7103, 7104, 7105], servers.RedisClusterPorts);
    }

    [Fact]
    public void Load_WithNothingFound_SaysToStartTheServers()
    {
        var empty = Directory.CreateTempSubdirectory("coord-empty-");
        try
        {
            var ex = Assert.Throws<InvalidOperationException>(() => TestServers.Load(_ => null, empty.FullName));

            Assert.Contains("run eng/servers.sh start", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_FindsEndpointsFileAboveTheStartFolder()
    {
        var root = Directory.CreateTempSubdirectory("coord-root-");
        try
        {
            Directory.CreateDirectory(Path.Combine(root.FullName, ".servers"));
            File.WriteAllText(
                Path.Combine(root.FullName, ".servers", TestServers.EndpointsFileName),
                $"COORD_REDIS=127.0.0.1:1\nCOORD_ZK=127.0.0.1:2\nCOORD_ZK_ENSEMBLE=127.0.0.1:3,127.0.0.1:4,127.0.0.1:5\nCOORD_SERVERS_DIR={root.FullName}/.servers\n");
            var deep = Directory.CreateDirectory(Path.Combine(root.FullName, "tests", "X", "bin"));

            var servers = TestServers.Load(_ => null, deep.FullName);

            Assert.Equal(1, servers.RedisPort);
            Assert.Equal($"{root.FullName}/.servers", servers.ServersDirectory);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void ParseMode_ReadsEachMode()
    {
        Assert.Equal(ZooKeeperServerMode.Leader, FourLetterWords.ParseMode("Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: leader\nNode count: 5\n"));
        Assert.Equal(ZooKeeperServerMode.Follower, FourLetterWords.ParseMode("Mode: follower\n"));
        Assert.Equal(ZooKeeperServerMode.Standalone, FourLetterWords.ParseMode("Mode: standalone\n"));
        Assert.Equal(ZooKeeperServerMode.NotServing, FourLetterWords.ParseMode("This ZooKeeper instance is not currently serving requests\n"));
        Assert.Equal(ZooKeeperServerMode.Unknown, FourLetterWords.ParseMode("garbage"));
    }

    [Fact]
    public void ParseMntr_SplitsTabSeparatedLines()
    {
        var values = FourLetterWords.ParseMntr("zk_version\t3.8.0\nzk_server_state\tfollower\n");

        Assert.Equal("follower", values["zk_server_state"]);
        Assert.Equal(2, values.Count);
    }

    [Fact]
    public void TestNamespace_GivesEachTestItsOwnPrefixAndChroot()
    {
        var a = TestNamespace.Create();
        var b = TestNamespace.Create();

        Assert.NotEqual(a.KeyPrefix, b.KeyPrefix);
        Assert.Matches("^t-[0-9a-f]{12}-$", a.KeyPrefix);
        Assert.Equal("/t-" + a.Id, a.Chroot);
        Assert.Equal(a.KeyPrefix + "x", a.Key("x"));
    }

    [Fact]
    public async Task PollUntil_WhenConditionStaysFalse_ThrowsTimeoutNamingWhat()
    {
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => Poll.UntilAsync(() => false, TimeSpan.FromMilliseconds(100), "pigs fly"));

        Assert.Contains("pigs fly", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PollUntil_ReturnsOnceConditionHolds()
    {
        var calls = 0;

        await Poll.UntilAsync(() => ++calls == 3, TimeSpan.FromSeconds(10), "the third call");

        Assert.Equal(3, calls);
    }

    private static Dictionary<string, string> CoreValues() => new()
    {
        ["COORD_REDIS"] = "127.0.0.1:7000",
        ["COORD_ZK"] = "127.0.0.1:7001",
        ["COORD_ZK_ENSEMBLE"] = "127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004",
    };
}

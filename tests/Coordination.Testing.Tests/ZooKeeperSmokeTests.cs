namespace Coordination.Testing.Tests;

public sealed class ZooKeeperSmokeTests
{
    private static TestServers Servers => TestServers.Current;

    public static TheoryData<int> AllZooKeeperPorts()
    {
        var data = new TheoryData<int> { Servers.ZooKeeperPort };
        foreach (var port in Servers.EnsemblePorts)
        {
            data.Add(port);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllZooKeeperPorts))]
    public async Task Ruok_OnEveryServer_AnswersImok(int port)
    {
        Assert.Equal("imok", await FourLetterWords.SendAsync("127.0.0.1", port, "ruok"));
    }

    [Theory]
    [MemberData(nameof(AllZooKeeperPorts))]
    public async Task Srvr_OnEveryServer_ReportsVersionAndMode(int port)
    {
        var srvr = await FourLetterWords.SendAsync("127.0.0.1", port, "srvr");

        Assert.StartsWith("Zookeeper version: 3.", srvr, StringComparison.Ordinal);
        Assert.Contains("Mode: ", srvr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Srvr_OnStandalone_ReportsStandaloneMode()
    {
        var srvr = await FourLetterWords.SendAsync("127.0.0.1", Servers.ZooKeeperPort, "srvr");

        Assert.Equal(ZooKeeperServerMode.Standalone, FourLetterWords.ParseMode(srvr));
    }

    [Fact]
    public async Task Srvr_OverTheEnsemble_ReportsOneLeaderAndTwoFollowers()
    {
        // A fault test in another class may just have restarted a member: give an election time to settle.
        await new ServerFaults(Servers).WaitForEnsembleAsync();

        var modes = new List<ZooKeeperServerMode>();
        foreach (var port in Servers.EnsemblePorts)
        {
            modes.Add(FourLetterWords.ParseMode(await FourLetterWords.SendAsync("127.0.0.1", port, "srvr")));
        }

        Assert.Equal(1, modes.Count(m => m == ZooKeeperServerMode.Leader));
        Assert.Equal(2, modes.Count(m => m == ZooKeeperServerMode.Follower));
    }

    [Fact]
    public async Task Mntr_OnTheLeader_CountsTwoSyncedFollowers()
    {
        var faults = new ServerFaults(Servers);
        await faults.WaitForEnsembleAsync();
        var leader = await faults.FindEnsembleLeaderAsync();
        Assert.NotNull(leader);

        var mntr = await FourLetterWords.MntrAsync("127.0.0.1", Servers.EnsemblePort(leader.Value));

        Assert.Equal("leader", mntr["zk_server_state"]);
        Assert.Equal("2", mntr["zk_synced_followers"]);
    }

    [Fact]
    public async Task Conf_OnEveryServer_AllowsShortSessions()
    {
        foreach (var port in new[] { Servers.ZooKeeperPort }.Concat(Servers.EnsemblePorts))
        {
            var conf = await FourLetterWords.SendAsync("127.0.0.1", port, "conf");

            Assert.Contains("minSessionTimeout=1000", conf, StringComparison.Ordinal);
            Assert.Contains("maxSessionTimeout=60000", conf, StringComparison.Ordinal);
        }
    }
}

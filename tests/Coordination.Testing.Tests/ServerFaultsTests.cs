using Coordination.Testing;
using StackExchange.Redis;

namespace Coordination.Testing.Tests;

[Collection(ServerFaultsCollection.Name)]
public sealed class ServerFaultsTests(ServersFixture fixture)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private ServerFaults Faults => fixture.Faults;

    [Fact]
    public async Task StoppingAFollower_LeavesLeaderAndFollowerServing_AndRestartRejoins()
    {
        await Faults.WaitForEnsembleAsync();
        var leader = await Faults.FindEnsembleLeaderAsync() ?? throw new InvalidOperationException("no leader");
        var follower = leader % 3 + 1;
        var other = follower % 3 + 1;
        try
        {
            await Faults.StopEnsembleMemberAsync(follower);

            Assert.Equal(ZooKeeperServerMode.Unreachable, await Faults.GetEnsembleMemberModeAsync(follower));
            await AssertPairServesAsync(leader, other);
            Assert.Equal(ZooKeeperServerMode.Leader, await Faults.GetEnsembleMemberModeAsync(leader));

            await Faults.StartEnsembleMemberAsync(follower);

            await Faults.WaitForEnsembleAsync();
            Assert.Equal(ZooKeeperServerMode.Follower, await Faults.GetEnsembleMemberModeAsync(follower));
        }
        finally
        {
            await Faults.EnsureAllRunningAsync();
        }
    }

    [Fact]
    public async Task StoppingTheLeader_ElectsANewLeaderAmongTheOtherTwo_AndRestartRejoinsAsFollower()
    {
        await Faults.WaitForEnsembleAsync();
        var leader = await Faults.FindEnsembleLeaderAsync() ?? throw new InvalidOperationException("no leader");
        var a = leader % 3 + 1;
        var b = a % 3 + 1;
        try
        {
            await Faults.StopEnsembleMemberAsync(leader);

            await AssertPairServesAsync(a, b);

            await Faults.StartEnsembleMemberAsync(leader);

            await Faults.WaitForEnsembleAsync();
            Assert.Equal(ZooKeeperServerMode.Follower, await Faults.GetEnsembleMemberModeAsync(leader));
        }
        finally
        {
            await Faults.EnsureAllRunningAsync();
        }
    }

    [Fact]
    public async Task StoppingAndStartingTheStandalone_ServesAgain()
    {
        try
        {
            await Faults.StopStandaloneZooKeeperAsync();

            Assert.Equal(ZooKeeperServerMode.Unreachable, await FourLetterWords.GetModeAsync("127.0.0.1", fixture.Servers.ZooKeeperPort));

            await Faults.StartStandaloneZooKeeperAsync();

            Assert.Equal("imok", await FourLetterWords.SendAsync("127.0.0.1", fixture.Servers.ZooKeeperPort, "ruok"));
        }
        finally
        {
            await Faults.EnsureAllRunningAsync();
        }
    }

    [Fact]
    public async Task StopAndStartRedis_DropsTheServerAndItsData_AndTheMultiplexerReconnects()
    {
        var key = TestNamespace.Create().Key("survivor");
        var db = fixture.Database;
        await db.StringSetAsync(key, "v");
        var pidBefore = Faults.GetRedisPid();
        try
        {
            await Faults.StopRedisAsync();

            await Assert.ThrowsAnyAsync<RedisException>(() => db.PingAsync());

            await Faults.StartRedisAsync();

            await Poll.UntilAsync(async () => { await db.PingAsync(); return true; }, Settle, "the multiplexer reconnects to the restarted Redis");
            Assert.NotEqual(pidBefore, Faults.GetRedisPid());
            Assert.False(await db.KeyExistsAsync(key));
        }
        finally
        {
            await Faults.EnsureAllRunningAsync();
        }
    }

    [Fact]
    public async Task RestartRedis_StartsAFreshServer()
    {
        var key = TestNamespace.Create().Key("k");
        await fixture.Database.StringSetAsync(key, "v");
        var pidBefore = Faults.GetRedisPid();

        await Faults.RestartRedisAsync();

        Assert.NotEqual(pidBefore, Faults.GetRedisPid());
        await Poll.UntilAsync(async () => !await fixture.Database.KeyExistsAsync(key), Settle, "the restarted Redis answers without the old key");
    }

    [Fact]
    public async Task FlushRedis_RemovesEveryKey()
    {
        var ns = TestNamespace.Create();
        await fixture.Database.StringSetAsync(ns.Key("a"), "1");
        await fixture.Database.StringSetAsync(ns.Key("b"), "2");

        await Faults.FlushRedisAsync();

        Assert.False(await fixture.Database.KeyExistsAsync(ns.Key("a")));
        Assert.False(await fixture.Database.KeyExistsAsync(ns.Key("b")));
        Assert.Equal(0, await fixture.Redis.GetServer(fixture.Servers.Redis).DatabaseSizeAsync());
    }

    [Fact]
    public async Task PausedRedis_TimesOutPings_AndAnswersAfterResume()
    {
        await using var redis = await RedisFixture.ConnectAsync(fixture.Servers, o => o.AsyncTimeout = o.SyncTimeout = 500);
        var db = redis.GetDatabase();
        await db.PingAsync();
        var pid = Faults.GetRedisPid();

        using (Faults.Pause(pid))
        {
            await Assert.ThrowsAsync<RedisTimeoutException>(() => db.PingAsync());
        }

        await Poll.UntilAsync(async () => { await db.PingAsync(); return true; }, Settle, "the resumed Redis answers PING");
    }

    [Fact]
    public async Task PausedFollower_DoesNotAnswer_AndAnswersAfterResume()
    {
        await Faults.WaitForEnsembleAsync();
        var leader = await Faults.FindEnsembleLeaderAsync() ?? throw new InvalidOperationException("no leader");
        var follower = leader % 3 + 1;
        var port = fixture.Servers.EnsemblePort(follower);
        var pid = Faults.GetEnsembleMemberPid(follower);

        Faults.PauseProcess(pid);
        try
        {
            await Assert.ThrowsAsync<TimeoutException>(() => FourLetterWords.SendAsync("127.0.0.1", port, "ruok"));
        }
        finally
        {
            Faults.ResumeProcess(pid);
        }

        await Poll.UntilAsync(async () => await FourLetterWords.SendAsync("127.0.0.1", port, "ruok") == "imok", Settle, "the resumed follower answers ruok");
        await Faults.WaitForEnsembleAsync();
    }

    private async Task AssertPairServesAsync(int leaderOrFollower1, int leaderOrFollower2)
    {
        ZooKeeperServerMode m1 = default, m2 = default;
        await Poll.UntilAsync(
            async () =>
            {
                m1 = await Faults.GetEnsembleMemberModeAsync(leaderOrFollower1);
                m2 = await Faults.GetEnsembleMemberModeAsync(leaderOrFollower2);
                return (m1, m2) is (ZooKeeperServerMode.Leader, ZooKeeperServerMode.Follower) or (ZooKeeperServerMode.Follower, ZooKeeperServerMode.Leader);
            },
            Settle,
            $"members {leaderOrFollower1} and {leaderOrFollower2} serve as leader and follower");
        Assert.Contains(ZooKeeperServerMode.Leader, new[] { m1, m2 });
        Assert.Contains(ZooKeeperServerMode.Follower, new[] { m1, m2 });
    }
}

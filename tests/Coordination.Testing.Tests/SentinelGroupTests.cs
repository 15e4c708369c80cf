using Coordination.Testing;
using StackExchange.Redis;

namespace Coordination.Testing.Tests;

[Collection(ServerFaultsCollection.Name)]
public sealed class SentinelGroupTests(ServersFixture fixture)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private SentinelGroup Group { get; } = new(fixture.Servers);

    [Fact]
    public async Task Failover_MakesTheReplicaMaster_AndTheOldMasterItsReplica()
    {
        await Group.WaitHealthyAsync();
        var before = await Group.GetMasterPortAsync();
        var key = TestNamespace.Create().Key("replicated");
        await using (var master = await SentinelGroup.ConnectNodeAsync(before))
        {
            await master.GetDatabase().StringSetAsync(key, "v");
            await master.GetDatabase().ExecuteAsync("WAIT", 1, 5000);
        }

        var after = await Group.FailoverAsync();

        Assert.NotEqual(before, after);
        Assert.Equal(after, await Group.GetMasterPortAsync());
        Assert.Equal(before, await Group.GetReplicaPortAsync());
        await using var promoted = await SentinelGroup.ConnectNodeAsync(after);
        Assert.Equal("v", (string?)await promoted.GetDatabase().StringGetAsync(key));
        Assert.Equal(ServerType.Standalone, promoted.GetServer(promoted.GetEndPoints()[0]).ServerType);
        Assert.False(promoted.GetServer(promoted.GetEndPoints()[0]).IsReplica);
        await using var demoted = await SentinelGroup.ConnectNodeAsync(before);
        Assert.True(demoted.GetServer(demoted.GetEndPoints()[0]).IsReplica);
    }

    [Fact]
    public async Task StoppingTheMaster_FailsOverByItself_AndTheRestartedNodeRejoinsAsReplica()
    {
        await Group.WaitHealthyAsync();
        var master = await Group.GetMasterPortAsync();
        var node = Group.NodeOf(master);
        try
        {
            await Group.StopNodeAsync(node);

            await Poll.UntilAsync(async () => await Group.GetMasterPortAsync() != master, Settle, "the sentinel promotes the replica");

            await Group.StartNodeAsync(node);

            Assert.Equal(master, await Group.GetReplicaPortAsync());
        }
        finally
        {
            await Group.EnsureHealthyAsync();
        }
    }

    [Fact]
    public async Task SentinelConnectionString_FollowsTheMasterAcrossAFailover()
    {
        await Group.WaitHealthyAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Group.ConnectionString + ",abortConnect=false");
        var key = TestNamespace.Create().Key("follow");
        await redis.GetDatabase().StringSetAsync(key, "1");

        var after = await Group.FailoverAsync();

        await Poll.UntilAsync(
            async () =>
            {
                await redis.GetDatabase().StringIncrementAsync(key);
                return true;
            },
            Settle,
            "a write through the sentinel connection succeeds on the new master");
        await using var promoted = await SentinelGroup.ConnectNodeAsync(after);
        Assert.True((long)await promoted.GetDatabase().StringGetAsync(key) >= 2);
    }
}

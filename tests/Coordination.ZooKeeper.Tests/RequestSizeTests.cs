namespace Coordination.ZooKeeper.Tests;

/// <summary>The server drops the connection for a request frame over jute.maxbuffer; the client refuses such requests first.</summary>
public sealed class RequestSizeTests
{
    [Fact]
    public async Task ARequestOverJuteMaxBuffer_IsRefusedBeforeSendingAndTheConnectionSurvives()
    {
        await using var zk = await ZkEnv.ConnectAsync(ZkEnv.NewChroot());
        var session = zk.SessionId;

        // The data alone is within MaxDataLength, but path, ACL and headers push the request over the limit.
        var create = await Assert.ThrowsAsync<ArgumentException>(() => zk.CreateAsync("/big", new byte[ZooKeeperClient.MaxDataLength]));
        Assert.Equal("data", create.ParamName);
        Assert.Contains("'/big'", create.Message, StringComparison.Ordinal);
        await zk.CreateAsync("/small", ReadOnlyMemory<byte>.Empty);
        await Assert.ThrowsAsync<ArgumentException>(() => zk.SetDataAsync("/small", new byte[ZooKeeperClient.MaxDataLength]));
        var multi = await Assert.ThrowsAsync<ArgumentException>(() => zk.MultiAsync([
            ZooKeeperOp.Create("/m1", new byte[600_000]),
            ZooKeeperOp.Create("/m2", new byte[600_000]),
        ]));
        Assert.Equal("ops", multi.ParamName);

        // Nothing was sent: same connection, same session, nothing created.
        Assert.Equal(ZooKeeperState.Connected, zk.State);
        Assert.Equal(session, zk.SessionId);
        Assert.Null(await zk.ExistsAsync("/big"));
        Assert.Null(await zk.ExistsAsync("/m1"));

        // Just under the limit goes through and reads back whole (a reply frame over 1 MiB).
        var almost = new byte[ZooKeeperClient.MaxDataLength - 100];
        Random.Shared.NextBytes(almost);
        await zk.CreateAsync("/almost", almost);
        Assert.Equal(almost, (await zk.GetDataAsync("/almost")).Data);
        Assert.Equal(session, zk.SessionId);
    }
}

using System.Text;

namespace Coordination.ZooKeeper.Tests;

public sealed class OperationsTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Crud_RoundTripsDataAndStat(bool ensemble)
    {
        await using var zk = await ZkEnv.ConnectAsync(ZkEnv.NewChroot(), ensemble);
        var created = await zk.CreateAsync("/a", B("one"));
        Assert.Equal("/a", created.Path);
        Assert.Equal(0, created.Stat.Version);
        Assert.Equal(3, created.Stat.DataLength);
        Assert.True(created.Stat.Czxid > 0);

        var got = await zk.GetDataAsync("/a");
        Assert.Equal("one", Encoding.UTF8.GetString(got.Data));
        Assert.Equal(created.Stat.Czxid, got.Stat.Czxid);

        var set = await zk.SetDataAsync("/a", B("two"), version: 0);
        Assert.Equal(1, set.Version);
        await Assert.ThrowsAsync<BadVersionException>(() => zk.SetDataAsync("/a", B("three"), version: 0));
        Assert.Equal("two", Encoding.UTF8.GetString((await zk.GetDataAsync("/a")).Data));

        await zk.CreateAsync("/a/child", ReadOnlyMemory<byte>.Empty);
        var children = await zk.GetChildrenAsync("/a");
        Assert.Equal(["child"], children.Children);
        Assert.Equal(1, children.Stat.NumChildren);
        await Assert.ThrowsAsync<NotEmptyException>(() => zk.DeleteAsync("/a"));
        await Assert.ThrowsAsync<NodeExistsException>(() => zk.CreateAsync("/a", B("x")));
        await Assert.ThrowsAsync<NoNodeException>(() => zk.CreateAsync("/missing/child", B("x")));

        await zk.DeleteAsync("/a/child");
        await Assert.ThrowsAsync<BadVersionException>(() => zk.DeleteAsync("/a", version: 7));
        await zk.DeleteAsync("/a", version: 1);
        Assert.Null(await zk.ExistsAsync("/a"));
        var ex = await Assert.ThrowsAsync<NoNodeException>(() => zk.GetDataAsync("/a"));
        Assert.Equal(ZooKeeperErrorCode.NoNode, ex.Code);
        Assert.Equal("/a", ex.Path);
        await Assert.ThrowsAsync<NoNodeException>(() => zk.DeleteAsync("/a"));
    }

    [Fact]
    public async Task EphemeralAndSequentialNodes_BehaveAsTheirModes()
    {
        var chroot = ZkEnv.NewChroot();
        await using var observer = await ZkEnv.ConnectAsync(chroot);
        var owner = await ZkEnv.ConnectAsync(chroot);
        var e = await owner.CreateAsync("/eph", B("x"), CreateMode.Ephemeral);
        Assert.Equal(owner.SessionId, e.Stat.EphemeralOwner);
        await observer.CreateAsync("/q", ReadOnlyMemory<byte>.Empty);
        var s1 = await owner.CreateAsync("/q/n-", ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential);
        var s2 = await owner.CreateAsync("/q/n-", ReadOnlyMemory<byte>.Empty, CreateMode.PersistentSequential);
        Assert.Matches("^/q/n-[0-9]{10}$", s1.Path);
        Assert.True(string.CompareOrdinal(s1.Path, s2.Path) < 0);
        Assert.Equal(0, s2.Stat.EphemeralOwner);
        await Assert.ThrowsAsync<ZooKeeperException>(() => owner.CreateAsync("/eph/child", B("x")));

        await owner.DisposeAsync();
        Assert.Equal(ZooKeeperState.Closed, owner.State);
        Assert.Null(await observer.ExistsAsync("/eph"));
        Assert.Null(await observer.ExistsAsync(s1.Path));
        Assert.NotNull(await observer.ExistsAsync(s2.Path));
    }

    [Fact]
    public async Task ContainerAndTtlNodes_AreCreated()
    {
        await using var zk = await ZkEnv.ConnectAsync(ZkEnv.NewChroot());
        var c = await zk.CreateAsync("/container", ReadOnlyMemory<byte>.Empty, CreateMode.Container);
        Assert.Equal("/container", c.Path);
        var t = await zk.CreateAsync("/ttl", B("x"), CreateMode.PersistentWithTtl, ttl: 60_000);
        Assert.Equal("/ttl", t.Path);
        var ts = await zk.CreateAsync("/ttl-", B("x"), CreateMode.PersistentSequentialWithTtl, ttl: 60_000);
        Assert.StartsWith("/ttl-", ts.Path);
        Assert.NotNull(await zk.ExistsAsync("/ttl"));
    }

    [Fact]
    public async Task Multi_AppliesAllOrNothing()
    {
        await using var zk = await ZkEnv.ConnectAsync(ZkEnv.NewChroot());
        await zk.CreateAsync("/m", B("v0"));
        var ok = await zk.MultiAsync([
            ZooKeeperOp.Check("/m", 0),
            ZooKeeperOp.Create("/m/a", B("a")),
            ZooKeeperOp.Create("/m/s-", B("s"), CreateMode.PersistentSequential),
            ZooKeeperOp.SetData("/m", B("v1"), 0),
        ]);
        Assert.Equal(4, ok.Count);
        Assert.Equal("/m/a", ok[1].Path);
        Assert.StartsWith("/m/s-", ok[2].Path);
        Assert.Equal(1, ok[3].Stat!.Version);

        var ex = await Assert.ThrowsAsync<BadVersionException>(() => zk.MultiAsync([
            ZooKeeperOp.Create("/m/b", B("b")),
            ZooKeeperOp.Delete("/m/a"),
            ZooKeeperOp.Check("/m", 0),
        ]));
        Assert.Equal("/m", ex.Path);
        Assert.NotNull(ex.MultiResults);
        Assert.Equal(ZooKeeperErrorCode.BadVersion, ex.MultiResults![2].Error);
        Assert.Null(await zk.ExistsAsync("/m/b"));
        Assert.NotNull(await zk.ExistsAsync("/m/a"));
    }

    [Fact]
    public async Task SyncAndAcl_Work()
    {
        await using var zk = await ZkEnv.ConnectAsync(ZkEnv.NewChroot());
        await zk.CreateAsync("/n", B("x"));
        await zk.SyncAsync("/n");
        var acl = await zk.GetAclAsync("/n");
        Assert.Equal(ZooKeeperAcl.OpenUnsafe, acl.Acl);
        var stat = await zk.SetAclAsync("/n", ZooKeeperAcl.ReadUnsafe, acl.Stat.Aversion);
        Assert.Equal(1, stat.Aversion);
        Assert.Equal(ZooKeeperAcl.ReadUnsafe, (await zk.GetAclAsync("/n")).Acl);
        await Assert.ThrowsAsync<NoAuthException>(() => zk.SetDataAsync("/n", B("y")));
    }

    [Fact]
    public async Task DigestAcl_RefusesSessionsWithoutTheCredentials()
    {
        var chroot = ZkEnv.NewChroot();
        await using var owner = await ZkEnv.ConnectAsync(chroot);
        await owner.AddAuthAsync("digest", B("alice:secret"));
        await owner.CreateAsync("/private", B("for alice"), acl: [ZooKeeperAcl.Digest("alice", "secret")]);
        Assert.Equal("for alice", Encoding.UTF8.GetString((await owner.GetDataAsync("/private")).Data));

        await using var stranger = await ZkEnv.ConnectAsync(chroot);
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.GetDataAsync("/private"));
        await stranger.AddAuthAsync("digest", B("alice:wrong"));
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.GetDataAsync("/private"));

        await using var friend = await ZkEnv.ConnectAsync(chroot);
        await friend.AddAuthAsync("digest", B("alice:secret"));
        Assert.Equal("for alice", Encoding.UTF8.GetString((await friend.GetDataAsync("/private")).Data));
    }

    [Fact]
    public async Task Chroot_IsTransparentAndCreated()
    {
        var chroot = ZkEnv.NewChroot() + "/nested";
        await using var rooted = await ZkEnv.ConnectAsync(chroot);
        var c = await rooted.CreateAsync("/x", B("1"), CreateMode.EphemeralSequential);
        Assert.StartsWith("/x", c.Path);
        await using var plain = await ZkEnv.ConnectAsync();
        Assert.NotNull(await plain.ExistsAsync(chroot + c.Path));
        Assert.Contains(c.Path[1..], (await plain.GetChildrenAsync(chroot)).Children);
        Assert.NotNull(await rooted.ExistsAsync("/"));
    }

    [Fact]
    public async Task ThousandConcurrentRequests_AllCompleteCorrectly()
    {
        await using var zk = await ZkEnv.ConnectAsync(ZkEnv.NewChroot());
        await zk.CreateAsync("/p", ReadOnlyMemory<byte>.Empty);
        var tasks = Enumerable.Range(0, 1000).Select(async i =>
        {
            var path = $"/p/n{i}";
            await zk.CreateAsync(path, B(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var data = await zk.GetDataAsync(path);
            return (i, Encoding.UTF8.GetString(data.Data));
        }).ToList();
        var results = await Task.WhenAll(tasks);
        foreach (var (i, value) in results)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
        }

        Assert.Equal(1000, (await zk.GetChildrenAsync("/p")).Children.Count);
    }

    [Fact]
    public async Task InvalidInput_IsRejectedBeforeSending()
    {
        await using var zk = await ZkEnv.ConnectAsync(ZkEnv.NewChroot());
        var e1 = await Assert.ThrowsAsync<ArgumentException>(() => zk.CreateAsync("relative", B("x")));
        Assert.Contains("'relative'", e1.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => zk.GetDataAsync("/a//b"));
        await Assert.ThrowsAsync<ArgumentException>(() => zk.GetDataAsync("/a/"));
        await Assert.ThrowsAsync<ArgumentException>(() => zk.GetDataAsync("/a/./b"));
        await Assert.ThrowsAsync<ArgumentException>(() => zk.GetDataAsync("/a\u0001"));
        await Assert.ThrowsAsync<ArgumentException>(() => zk.CreateAsync("/a/", B("x")));
        var big = await Assert.ThrowsAsync<ArgumentException>(() => zk.CreateAsync("/big", new byte[ZooKeeperClient.MaxDataLength + 1]));
        Assert.Contains("1048576", big.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => zk.CreateAsync("/t", B("x"), CreateMode.Persistent, ttl: 5));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => zk.CreateAsync("/t", B("x"), CreateMode.PersistentWithTtl, ttl: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => zk.DeleteAsync("/t", version: -2));
        Assert.Throws<ArgumentException>(() => ZooKeeperConnectionString.Parse("host:notaport"));
        Assert.Throws<ArgumentException>(() => ZooKeeperConnectionString.Parse("a:1,,b:2"));
        Assert.Throws<ArgumentException>(() => ZooKeeperConnectionString.Parse("a:1/bad/"));
        var cs = ZooKeeperConnectionString.Parse("a:1, b ,c:3/app/x");
        Assert.Equal([("a", 1), ("b", 2181), ("c", 3)], cs.Hosts);
        Assert.Equal("/app/x", cs.Chroot);
    }
}

using System.Collections.Concurrent;
using System.Text;
using Coordination.Testing;

namespace Coordination.ZooKeeper.Tests;

/// <summary>
/// Every operation on the 3-node ensemble through a chroot, with the writer and the reader pinned to two
/// different members (the reader syncs first, as cross-client read-after-write requires).
/// </summary>
public sealed class EnsembleOperationsTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static Task<ZooKeeperClient> ConnectToMemberAsync(int member, string chroot) =>
        ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = EnsembleControl.Members[member] + chroot,
            SessionTimeout = TimeSpan.FromSeconds(10),
            OperationTimeout = TimeSpan.FromSeconds(15),
        });

    [Fact]
    public async Task EveryOperation_WorksAcrossMembersThroughAChroot()
    {
        var chroot = ZkEnv.NewChroot() + "/app";
        await using var a = await ConnectToMemberAsync(0, chroot);
        await using var b = await ConnectToMemberAsync(1, chroot);
        Assert.NotEqual(a.ConnectedServer, b.ConnectedServer);

        // create variants
        await a.CreateAsync("/p", B("p0"));
        var eph = await a.CreateAsync("/p/eph", B("e"), CreateMode.Ephemeral);
        var es = await a.CreateAsync("/p/es-", ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential);
        var ps = await a.CreateAsync("/p/ps-", ReadOnlyMemory<byte>.Empty, CreateMode.PersistentSequential);
        await a.CreateAsync("/c", ReadOnlyMemory<byte>.Empty, CreateMode.Container);
        await a.CreateAsync("/ttl", B("t"), CreateMode.PersistentWithTtl, ttl: 60_000);
        Assert.Matches("^/p/es-[0-9]{10}$", es.Path);

        // watches set by b on its member fire for a's changes made on another member
        var events = new ConcurrentQueue<WatchedEvent>();
        await b.SyncAsync("/p");
        await b.GetDataAsync("/p", events.Enqueue);
        await b.GetChildrenAsync("/p", events.Enqueue);
        await b.AddWatchAsync("/c", events.Enqueue, AddWatchMode.PersistentRecursive);

        // setData, versions
        var set = await a.SetDataAsync("/p", B("p1"), version: 0);
        await Assert.ThrowsAsync<BadVersionException>(() => a.SetDataAsync("/p", B("x"), version: 0));
        await b.SyncAsync("/p");
        var got = await b.GetDataAsync("/p");
        Assert.Equal("p1", Encoding.UTF8.GetString(got.Data));
        Assert.Equal(set.Mzxid, got.Stat.Mzxid);
        Assert.Equal(a.SessionId, (await b.ExistsAsync(eph.Path))!.EphemeralOwner);
        Assert.Equal(a.SessionId, (await b.ExistsAsync(es.Path))!.EphemeralOwner);

        // multi
        var results = await a.MultiAsync([
            ZooKeeperOp.Check("/p", 1),
            ZooKeeperOp.Create("/c/x", B("x")),
            ZooKeeperOp.SetData("/ttl", B("t2"), 0),
            ZooKeeperOp.Delete(ps.Path),
        ]);
        Assert.Equal(4, results.Count);
        await Assert.ThrowsAsync<NodeExistsException>(() => a.MultiAsync([ZooKeeperOp.Create("/c/y", B("y")), ZooKeeperOp.Create("/c/x", B("x"))]));

        await Poll.UntilAsync(() => events.Count >= 3, "b's watches fire");
        Assert.Equal(
            [(WatchEventType.NodeDataChanged, "/p"), (WatchEventType.NodeCreated, "/c/x"), (WatchEventType.NodeChildrenChanged, "/p")],
            events.Select(e => (e.Type, e.Path!)));
        await b.SyncAsync("/");
        Assert.Null(await b.ExistsAsync("/c/y"));
        Assert.Equal(["eph", es.Path[3..]], (await b.GetChildrenAsync("/p")).Children.Order(StringComparer.Ordinal));

        // ACLs and digest auth
        await a.AddAuthAsync("digest", B("carol:pw"));
        await a.CreateAsync("/secret", B("s"), acl: [ZooKeeperAcl.Digest("carol", "pw")]);
        await b.SyncAsync("/secret");
        await Assert.ThrowsAsync<NoAuthException>(() => b.GetDataAsync("/secret"));
        await a.SetAclAsync("/p", ZooKeeperAcl.ReadUnsafe, 0);
        await b.SyncAsync("/p");
        Assert.Equal(ZooKeeperAcl.ReadUnsafe, (await b.GetAclAsync("/p")).Acl);
        await Assert.ThrowsAsync<NoAuthException>(() => b.SetDataAsync("/p", B("nope")));

        // delete, and the chroot is transparent: the plain view sees the real paths
        await a.DeleteAsync("/c/x");
        await using var plain = await ConnectToMemberAsync(2, string.Empty);
        await plain.SyncAsync(chroot);
        Assert.NotNull(await plain.ExistsAsync(chroot + es.Path));
        Assert.Null(await plain.ExistsAsync(chroot + "/c/x"));

        // closing a's session removes its ephemerals everywhere
        await a.DisposeAsync();
        await b.SyncAsync("/p");
        Assert.Null(await b.ExistsAsync(eph.Path));
        Assert.Null(await b.ExistsAsync(es.Path));
    }
}

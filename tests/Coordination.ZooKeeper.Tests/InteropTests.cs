using System.Text;
using System.Text.Json;

namespace Coordination.ZooKeeper.Tests;

/// <summary>Our client and an independent one (python3-kazoo) see each other's nodes as what they are.</summary>
public sealed class InteropTests
{
    private static readonly byte[] Binary = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, .. "héllo"u8];

    [Fact]
    public async Task NodesWrittenByOurClient_AreSeenAsSuchByKazoo()
    {
        var chroot = ZkEnv.NewChroot();
        var hosts = ZkEnv.Standalone + chroot;
        var owner = await ZkEnv.ConnectAsync(chroot);
        string eph, seq1, seq2;
        try
        {
            await owner.CreateAsync("/data", Binary);
            await owner.SetDataAsync("/data", Binary, version: 0);
            eph = (await owner.CreateAsync("/eph", "e"u8.ToArray(), CreateMode.Ephemeral)).Path;
            await owner.CreateAsync("/q", ReadOnlyMemory<byte>.Empty);
            seq1 = (await owner.CreateAsync("/q/n-", ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential)).Path;
            seq2 = (await owner.CreateAsync("/q/n-", ReadOnlyMemory<byte>.Empty, CreateMode.PersistentSequential)).Path;

            var seen = await Kazoo.RunAsync("read", hosts, "/data", "/eph", "/q", seq1, seq2);

            Assert.Equal(Convert.ToBase64String(Binary), seen.GetProperty("/data").GetProperty("data").GetString());
            Assert.Equal(1, seen.GetProperty("/data").GetProperty("version").GetInt32());
            Assert.Equal(0, seen.GetProperty("/data").GetProperty("ephemeralOwner").GetInt64());
            Assert.Equal(owner.SessionId, seen.GetProperty("/eph").GetProperty("ephemeralOwner").GetInt64());
            Assert.Equal("e", Encoding.UTF8.GetString(Convert.FromBase64String(seen.GetProperty("/eph").GetProperty("data").GetString()!)));
            Assert.Equal(owner.SessionId, seen.GetProperty(seq1).GetProperty("ephemeralOwner").GetInt64());
            Assert.Equal(0, seen.GetProperty(seq2).GetProperty("ephemeralOwner").GetInt64());
            Assert.Equal([seq1[3..], seq2[3..]], seen.GetProperty("/q").GetProperty("children").EnumerateArray().Select(c => c.GetString()!));
            Assert.Matches("^n-[0-9]{10}$", seq1[3..]);
        }
        finally
        {
            await owner.DisposeAsync();
        }

        // Our closeSession removed the ephemerals for everyone.
        var after = await Kazoo.RunAsync("read", hosts, eph, seq1, seq2);
        Assert.Equal(JsonValueKind.Null, after.GetProperty(eph).ValueKind);
        Assert.Equal(JsonValueKind.Null, after.GetProperty(seq1).ValueKind);
        Assert.Equal(JsonValueKind.Object, after.GetProperty(seq2).ValueKind);
    }

    [Fact]
    public async Task NodesWrittenByKazoo_AreSeenAsSuchByOurClient()
    {
        var chroot = ZkEnv.NewChroot();
        await using var zk = await ZkEnv.ConnectAsync(chroot); // also creates the chroot kazoo works under
        var (kazoo, first) = await Kazoo.StartHoldingAsync("hold", ZkEnv.Standalone + chroot);
        await using (kazoo)
        {
            var kazooSession = first.GetProperty("session").GetInt64();
            var seq = first.GetProperty("seq").EnumerateArray().Select(s => s.GetString()!).ToList();

            var data = await zk.GetDataAsync("/kdata");
            byte[] expected = [0, .. "kazoo"u8, 0xff];
            Assert.Equal(expected, data.Data);
            Assert.Equal(0, data.Stat.EphemeralOwner);
            var eph = await zk.GetDataAsync("/keph");
            Assert.Equal("e"u8.ToArray(), eph.Data);
            Assert.Equal(kazooSession, eph.Stat.EphemeralOwner);
            Assert.All(seq, s => Assert.Matches("^/kq/n-[0-9]{10}$", s));
            var children = (await zk.GetChildrenAsync("/kq")).Children.Order(StringComparer.Ordinal).Select(c => "/kq/" + c);
            Assert.Equal(seq, children);
            Assert.Equal(kazooSession, (await zk.ExistsAsync(seq[0]))!.EphemeralOwner);
            Assert.Equal(0, (await zk.ExistsAsync(seq[1]))!.EphemeralOwner);

            var gone = new TaskCompletionSource<WatchedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            Assert.NotNull(await zk.ExistsAsync("/keph", e => gone.TrySetResult(e)));
            var closed = await kazoo.FinishAsync();
            Assert.True(closed.GetProperty("closed").GetBoolean());

            // Kazoo's closeSession removed its ephemerals; our watch saw it.
            Assert.Equal(new WatchedEvent(WatchEventType.NodeDeleted, WatchedEventState.SyncConnected, "/keph"), await gone.Task.WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Null(await zk.ExistsAsync(seq[0]));
            Assert.NotNull(await zk.ExistsAsync(seq[1]));
        }
    }

    [Fact]
    public async Task DigestAclSetByKazoo_RefusesOurSessionWithoutTheCredentials()
    {
        var chroot = ZkEnv.NewChroot();
        await using var zk = await ZkEnv.ConnectAsync(chroot);
        var created = await Kazoo.RunAsync("acl", ZkEnv.Standalone + chroot, "bob", "s3cret");

        var ex = await Assert.ThrowsAsync<NoAuthException>(() => zk.GetDataAsync("/ksecret"));
        Assert.Equal(ZooKeeperErrorCode.NoAuth, ex.Code);
        Assert.Equal("/ksecret", ex.Path);
        await Assert.ThrowsAsync<NoAuthException>(() => zk.GetAclAsync("/ksecret"));
        await Assert.ThrowsAsync<NoAuthException>(() => zk.SetDataAsync("/ksecret", "x"u8.ToArray()));

        await zk.AddAuthAsync("digest", "bob:wrong"u8.ToArray());
        await Assert.ThrowsAsync<NoAuthException>(() => zk.GetDataAsync("/ksecret"));
        await using var bob = await ZkEnv.ConnectAsync(chroot);
        await bob.AddAuthAsync("digest", "bob:s3cret"u8.ToArray());
        Assert.Equal("top secret"u8.ToArray(), (await bob.GetDataAsync("/ksecret")).Data);
        var acl = await bob.GetAclAsync("/ksecret");
        Assert.Equal([ZooKeeperAcl.Digest("bob", "s3cret")], acl.Acl); // our digest equals kazoo's
        Assert.Equal(created.GetProperty("acl").GetString(), acl.Acl[0].Id);
    }
}

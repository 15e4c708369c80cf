using Coordination.Testing;

namespace Coordination.ZooKeeper.Tests;

/// <summary>Credentials given with the options (sent first on every connection) and the client's default ACL.</summary>
public sealed class AuthAndDefaultAclTests
{
    private static readonly IReadOnlyList<ZooKeeperAcl> CreatorAllWorldRead = [.. ZooKeeperAcl.CreatorAll, .. ZooKeeperAcl.ReadUnsafe];

    private static ZooKeeperClientOptions Options(string connectionString, string user, string password)
    {
        var o = new ZooKeeperClientOptions
        {
            ConnectionString = connectionString,
            SessionTimeout = TimeSpan.FromSeconds(6),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            OperationTimeout = TimeSpan.FromSeconds(5),
            DefaultAcl = CreatorAllWorldRead,
        };
        o.AuthInfo.Add(ZooKeeperAuthInfo.Digest(user, password));
        return o;
    }

    [Fact]
    public async Task TheDefaultAcl_IsOnEveryNodeCreatedWithoutOne_TheChrootIncluded()
    {
        var chroot = ZkEnv.NewChroot() + "/app";
        await using var zk = await ZooKeeperClient.ConnectAsync(Options(ZkEnv.Standalone + chroot, "owner", "pw"));
        await zk.CreateAsync("/plain", ReadOnlyMemory<byte>.Empty);
        await zk.MultiAsync([ZooKeeperOp.Create("/in-multi", ReadOnlyMemory<byte>.Empty, CreateMode.Container)]);
        await zk.EnsurePathAsync("/a/b/c");
        await zk.CreateAsync("/explicit", ReadOnlyMemory<byte>.Empty, acl: ZooKeeperAcl.OpenUnsafe);

        // Seen by a client without the owner's credentials, ZooKeeper masks the digest (owner:x).
        await using var root = await ZkEnv.ConnectAsync();
        foreach (var path in new[] { chroot, ZooKeeperPath.GetParent(chroot), chroot + "/plain", chroot + "/in-multi", chroot + "/a", chroot + "/a/b", chroot + "/a/b/c" })
        {
            var acl = (await root.GetAclAsync(path)).Acl;
            Assert.Equal(2, acl.Count);
            Assert.Equal((ZooKeeperPermissions.All, "digest", "owner:"), (acl[0].Permissions, acl[0].Scheme, acl[0].Id[..6]));
            Assert.Equal(new ZooKeeperAcl(ZooKeeperPermissions.Read, "world", "anyone"), acl[1]);
        }

        Assert.Equal([ZooKeeperAcl.Digest("owner", "pw"), .. ZooKeeperAcl.ReadUnsafe], (await zk.GetAclAsync("/plain")).Acl);

        Assert.Equal(ZooKeeperAcl.OpenUnsafe, (await root.GetAclAsync(chroot + "/explicit")).Acl);
    }

    [Fact]
    public async Task CredentialsFromTheOptions_AreSentAgainOnEveryReconnect()
    {
        var chroot = ZkEnv.NewChroot();
        await using var gate = new TcpGate(ZkEnv.Standalone, open: true);
        await using var zk = await ZooKeeperClient.ConnectAsync(Options(gate.Endpoint + chroot, "owner", "pw"));
        await zk.CreateAsync("/guarded", "0"u8.ToArray());
        await zk.AddAuthAsync("digest", "second:pw2"u8.ToArray()); // added later: re-sent too
        await zk.CreateAsync("/second", ReadOnlyMemory<byte>.Empty, acl: [ZooKeeperAcl.Digest("second", "pw2")]);

        var states = new System.Collections.Concurrent.ConcurrentQueue<ZooKeeperState>();
        zk.StateChanged += (_, e) => states.Enqueue(e.Current);
        for (var i = 1; i <= 3; i++)
        {
            var mark = states.Count;
            gate.DropConnections();
            await Poll.UntilAsync(() => states.Skip(mark).SkipWhile(s => s != ZooKeeperState.Suspended).Contains(ZooKeeperState.Connected), $"reconnect {i}");
            await zk.SetDataAsync("/guarded", new byte[] { (byte)i });
            await zk.SetDataAsync("/second", new byte[] { (byte)i });
        }

        await using var stranger = await ZkEnv.ConnectAsync(chroot);
        Assert.Equal([3], (await stranger.GetDataAsync("/guarded")).Data);
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.SetDataAsync("/guarded", "x"u8.ToArray()));
        await Assert.ThrowsAsync<NoAuthException>(() => stranger.DeleteAsync("/guarded"));
    }

    [Fact]
    public async Task AWrongPassword_IsAnotherIdentity_ThatCanReadButNotWriteOrCreateInside()
    {
        var chroot = ZkEnv.NewChroot();
        await using var owner = await ZooKeeperClient.ConnectAsync(Options(ZkEnv.Standalone + chroot, "app", "right"));
        await owner.CreateAsync("/dir", "d"u8.ToArray());
        await owner.CreateAsync("/dir/child", ReadOnlyMemory<byte>.Empty);

        // Digest authentication never fails on the server: the wrong password is simply a different identity.
        await using var wrong = await ZooKeeperClient.ConnectAsync(Options(ZkEnv.Standalone + chroot, "app", "wrong"));
        Assert.Equal("d"u8.ToArray(), (await wrong.GetDataAsync("/dir")).Data);
        await Assert.ThrowsAsync<NoAuthException>(() => wrong.CreateAsync("/dir/mine", ReadOnlyMemory<byte>.Empty));
        await Assert.ThrowsAsync<NoAuthException>(() => wrong.DeleteAsync("/dir/child"));
        await Assert.ThrowsAsync<NoAuthException>(() => wrong.SetDataAsync("/dir", "x"u8.ToArray()));
    }

    [Fact]
    public void AuthInfo_NeverShowsTheSecret()
    {
        var digest = ZooKeeperAuthInfo.Digest("app", "s3cret");

        Assert.Equal("digest:app:*****", digest.ToString());
        Assert.Equal("app", digest.User);
        Assert.Throws<ArgumentException>(() => new ZooKeeperAuthInfo("digest", "no-colon"u8.ToArray()));
        Assert.Throws<ArgumentException>(() => ZooKeeperAuthInfo.Digest("a:b", "pw"));
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Security.Authentication;
using Coordination.Testing;

namespace Coordination.ZooKeeper.Tests;

/// <summary>TLS against the secure ZooKeeper of eng/servers.sh (secureClientPort, x509 client certificates accepted).</summary>
public sealed class TlsTests
{
    private static TestServers Servers => TestServers.Current;

    private static ZooKeeperClientOptions Options(string connectionString, Action<ZooKeeperTlsOptions>? tls = null)
    {
        var o = new ZooKeeperClientOptions
        {
            ConnectionString = connectionString,
            // Generous: a TLS handshake with the JVM server can take seconds on a loaded machine.
            SessionTimeout = TimeSpan.FromSeconds(6),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            OperationTimeout = TimeSpan.FromSeconds(15),
            Tls = new ZooKeeperTlsOptions { Enabled = true, CaFile = Servers.TlsCaFile },
        };
        tls?.Invoke(o.Tls);
        return o;
    }

    [Fact]
    public async Task OverTls_WithTheCaFile_TheClientWorksAndSeesWhatPlainClientsWrite()
    {
        var chroot = ZkEnv.NewChroot();
        await using var zk = await ZooKeeperClient.ConnectAsync(Options(Servers.ZooKeeperTls + chroot));
        Assert.True(zk.UsesTls);
        await zk.CreateAsync("/over-tls", "secret data"u8.ToArray());
        await using var plain = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectionString = Servers.ZooKeeperTlsPlain + chroot });

        Assert.Equal("secret data"u8.ToArray(), (await plain.GetDataAsync("/over-tls")).Data);
        Assert.Null(zk.LastConnectionError);
    }

    [Fact]
    public async Task WithAClientCertificate_TheSessionIsTheCertificatesX509Identity_AndCreatorAllNodesAreItsAlone()
    {
        var chroot = ZkEnv.NewChroot();
        await using var mutual = await ZooKeeperClient.ConnectAsync(Options(Servers.ZooKeeperTls + chroot, t =>
        {
            t.ClientCertificateFile = Servers.TlsClientCertificateFile;
            t.ClientKeyFile = Servers.TlsClientKeyFile;
        }));
        await mutual.CreateAsync("/mine", "v1"u8.ToArray(), acl: [.. ZooKeeperAcl.CreatorAll, .. ZooKeeperAcl.ReadUnsafe]);

        var acl = (await mutual.GetAclAsync("/mine")).Acl;
        Assert.Contains(acl, a => a.Scheme == "x509" && a.Id == "CN=coordination-client,O=Coordination" && a.Permissions == ZooKeeperPermissions.All);
        await mutual.SetDataAsync("/mine", "v2"u8.ToArray());

        await using var anonymous = await ZooKeeperClient.ConnectAsync(Options(Servers.ZooKeeperTls + chroot));
        Assert.Equal("v2"u8.ToArray(), (await anonymous.GetDataAsync("/mine")).Data);
        await Assert.ThrowsAsync<NoAuthException>(() => anonymous.SetDataAsync("/mine", "v3"u8.ToArray()));
    }

    [Fact]
    public async Task AServerCertificateFromAnotherCa_IsRefusedAtOnce_WithTheReasonAndTheCaFile()
    {
        using var certs = TestCertificates.Create();
        var options = Options(Servers.ZooKeeperTls, t => t.CaFile = certs.ForeignCaFile);
        options.OperationTimeout = TimeSpan.FromSeconds(30);

        // Fails as soon as the (only) server's certificate was refused, not after the 30 s operation timeout.
        var ex = await Assert.ThrowsAsync<ConnectionLossException>(() => ZooKeeperClient.ConnectAsync(options));

        Assert.IsType<AuthenticationException>(ex.InnerException);
        Assert.Contains("not trusted", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'CN=localhost' issued by 'CN=Coordination Test CA'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(certs.ForeignCaFile, ex.Message, StringComparison.Ordinal);
        Assert.Contains(Servers.ZooKeeperTls, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusedCertificate_FailsRequestsOfAClientThatKeepsRetrying_AndIsLoggedOnceAsAnError()
    {
        using var certs = TestCertificates.Create();
        var logs = new CapturingLoggerProvider();
        var options = Options(Servers.ZooKeeperTls, t => t.CaFile = certs.ForeignCaFile);
        await using var zk = new ZooKeeperClient(options, logs);

        await Poll.UntilAsync(() => zk.LastConnectionError is AuthenticationException, "the first attempt is refused");
        var ex = await Assert.ThrowsAsync<ConnectionLossException>(() => zk.ExistsAsync("/"));
        Assert.Contains("not trusted", ex.Message, StringComparison.Ordinal);
        await Poll.UntilAsync(() => logs.Entries.Count(e => e.EventId.Id == 1002 || e.EventId.Id == 1009) >= 3, "the client keeps retrying");
        Assert.Single(logs.Entries, e => e.EventId.Id == 1009 && e.Level == Microsoft.Extensions.Logging.LogLevel.Error);
        Assert.Equal(ZooKeeperState.Connecting, zk.State);
    }

    [Fact]
    public async Task AHostTheCertificateDoesNotName_IsRefused_UnlessTheHostNameCheckIsOff()
    {
        // 127.0.0.2 reaches the server through a gate, but the certificate names only localhost and 127.0.0.1.
        await using var gate = new TcpGate(Servers.ZooKeeperTls, open: true, listenAddress: IPAddress.Parse("127.0.0.2"));

        var ex = await Assert.ThrowsAsync<ConnectionLossException>(() => ZooKeeperClient.ConnectAsync(Options(gate.Endpoint)));
        Assert.Contains("does not name the host '127.0.0.2'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("localhost, 127.0.0.1", ex.Message, StringComparison.Ordinal);

        await using var unchecked_ = await ZooKeeperClient.ConnectAsync(Options(gate.Endpoint, t => t.CheckHostName = false));
        Assert.NotNull(await unchecked_.ExistsAsync("/"));
    }

    [Fact]
    public async Task APlainClientOnTheTlsPort_AndATlsClientOnAPlainPort_FailWithAHint()
    {
        var plainOnTls = new ZooKeeperClientOptions { ConnectionString = Servers.ZooKeeperTls, ConnectTimeout = TimeSpan.FromSeconds(2), OperationTimeout = TimeSpan.FromSeconds(2) };
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => ZooKeeperClient.ConnectAsync(plainOnTls));
        Assert.Contains("secureClientPort", ex.Message, StringComparison.Ordinal);
        Assert.Contains("enable TLS", ex.Message, StringComparison.Ordinal);

        var tlsOnPlain = Options(Servers.ZooKeeperTlsPlain);
        tlsOnPlain.OperationTimeout = TimeSpan.FromSeconds(2);
        ex = await Assert.ThrowsAsync<TimeoutException>(() => ZooKeeperClient.ConnectAsync(tlsOnPlain));
        Assert.Contains("TLS handshake", ex.Message, StringComparison.Ordinal);
        Assert.Contains("secureClientPort", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientCertificateTheServerDoesNotTrust_FailsWithAHintAboutTheCertificate()
    {
        using var certs = TestCertificates.Create();
        var options = Options(Servers.ZooKeeperTls, t =>
        {
            t.ClientCertificateFile = certs.ForeignClientCertificateFile;
            t.ClientKeyFile = certs.ForeignClientKeyFile;
        });
        options.OperationTimeout = TimeSpan.FromSeconds(2);

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => ZooKeeperClient.ConnectAsync(options));

        Assert.Contains("client certificate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryReconnect_DoesItsOwnTlsHandshake_AndReattachesTheSessionWithItsCredentials()
    {
        var chroot = ZkEnv.NewChroot();
        await using var gate = new TcpGate(Servers.ZooKeeperTls, open: true);
        var options = Options(gate.Endpoint + chroot, t => t.CheckHostName = true); // 127.0.0.1 is named
        options.AuthInfo.Add(ZooKeeperAuthInfo.Digest("tls-user", "pw"));
        await using var zk = await ZooKeeperClient.ConnectAsync(options);
        var states = new ConcurrentQueue<ZooKeeperState>();
        zk.StateChanged += (_, e) => states.Enqueue(e.Current);
        var eph = await zk.CreateAsync("/eph", ReadOnlyMemory<byte>.Empty, CreateMode.Ephemeral, [.. ZooKeeperAcl.CreatorAll]);
        var session = zk.SessionId;

        for (var i = 0; i < 3; i++)
        {
            var mark = states.Count; // the first connection's event may still be on its way
            gate.DropConnections();
            await Poll.UntilAsync(() => states.Skip(mark).SkipWhile(s => s != ZooKeeperState.Suspended).Contains(ZooKeeperState.Connected), $"reconnect {i + 1} over TLS");
            // Only the digest identity may write the node: the credentials were re-sent before this request.
            await zk.SetDataAsync(eph.Path, new byte[] { (byte)i });
        }

        Assert.Equal(session, zk.SessionId);
        Assert.Equal(session, (await zk.ExistsAsync(eph.Path))!.EphemeralOwner);
    }

    [Fact]
    public async Task AFailover_ToAnotherServer_IsOverTlsToo()
    {
        var chroot = ZkEnv.NewChroot();
        await using var first = new TcpGate(Servers.ZooKeeperTls, open: true);
        await using var second = new TcpGate(Servers.ZooKeeperTls, open: true);
        var options = Options(first.Endpoint + "," + second.Endpoint + chroot);
        options.ShuffleHosts = false;
        await using var zk = await ZooKeeperClient.ConnectAsync(options);
        var session = zk.SessionId;
        Assert.Equal(first.Endpoint, zk.ConnectedServer);

        first.Close();
        await Poll.UntilAsync(() => zk.ConnectedServer == second.Endpoint, "the client moves to the second server");

        Assert.Equal(session, zk.SessionId);
        await zk.CreateAsync("/after-failover", ReadOnlyMemory<byte>.Empty);
    }

    [Fact]
    public void BadTlsSettings_AreRefusedByTheConstructor_NamingTheOptionAndTheValue()
    {
        using var certs = TestCertificates.Create();
        var missing = Path.Combine(certs.Directory, "nope.pem");
        var cases = new (Action<ZooKeeperTlsOptions> Set, string[] Expected)[]
        {
            (t => t.CaFile = missing, ["ZooKeeperClientOptions.Tls.CaFile", missing, "does not exist"]),
            (t => { t.Enabled = false; t.CaFile = certs.ForeignCaFile; }, ["ZooKeeperClientOptions.Tls.Enabled is false"]),
            (t => t.ClientKeyFile = certs.ForeignClientKeyFile, ["ClientKeyFile", "without", "ClientCertificateFile"]),
            (t => t.ClientCertificateFile = certs.ForeignClientCertificateFile, ["ClientCertificateFile", "the key must then be in the same file"]),
            (t => t.ClientCertificateFile = certs.ExpiredClientCertificateFile, ["ClientCertificateFile", "expired on"]),
            (t => t.CaFile = certs.ForeignClientKeyFile, ["CaFile", "holds no PEM certificate"]),
        };
        foreach (var (set, expected) in cases)
        {
            var options = Options(Servers.ZooKeeperTls, set);
            var ex = Assert.Throws<ArgumentException>(() => new ZooKeeperClient(options));
            foreach (var part in expected)
            {
                Assert.Contains(part, ex.Message, StringComparison.Ordinal);
            }
        }
    }
}

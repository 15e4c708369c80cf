using System.Text.Json;
using Coordination.Configuration;
using Coordination.Elections;
using Coordination.Locks;
using Coordination.Testing;
using Coordination.ZooKeeper;
using Coordination.ZooKeeper.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.Tests.Security;

/// <summary>
/// Credentials, ACLs and TLS from the options down to the nodes: every node the library creates is creator-all plus
/// world-read, a client without the credentials (kazoo) can read but not delete or queue, and wrong credentials or an
/// untrusted certificate are reported at start, in health and in the lock's exception.
/// </summary>
public sealed class SecureZooKeeperTests
{
    private static TestServers Servers => TestServers.Current;

    private static IHost BuildHost(TestNamespace ns, string zooKeeper, Action<HybridCoordinationOptions> configure, CapturingLoggerProvider? logs = null, bool everything = false)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        var coordination = builder.Services.AddHybridCoordination(o =>
        {
            o.Redis = Servers.Redis;
            o.ZooKeeper = zooKeeper + ns.Chroot;
            o.RedisPrefix = ns.KeyPrefix;
            o.SessionTimeout = TimeSpan.FromSeconds(4);
            o.ConnectTimeout = TimeSpan.FromSeconds(10); // a TLS handshake can take seconds on a loaded machine
            o.OperationTimeout = TimeSpan.FromSeconds(15);
            configure(o);
        }).AddHealthChecks();
        if (everything)
        {
            coordination
                .AddZooKeeperConfiguration("/config/app", o => o.Optional = true)
                .AddServiceRegistration("orders", o =>
                {
                    o.Endpoints.Add("http://10.0.0.1:8080");
                    o.InstanceId = "orders-1";
                })
                .AddLeaderElection("scheduler", o => o.InstanceId = "orders-1");
        }

        return builder.Build();
    }

    /// <summary>Starts <paramref name="host"/>, runs <paramref name="test"/>, stops the host whatever happens.</summary>
    private static async Task RunAsync(IHost host, Func<IServiceProvider, Task> test)
    {
        await host.StartAsync();
        try
        {
            await test(host.Services);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static string LockDir(string key) => "/coordination/locks/" + Keys.LockKey.ToNodeName(key);

    /// <summary>The one node in the queue directory of lock <paramref name="key"/>.</summary>
    private static async Task<string> HeldNodeAsync(ZooKeeperClient zk, string key) =>
        LockDir(key) + "/" + Assert.Single((await zk.GetChildrenAsync(LockDir(key))).Children);

    private static async Task<HealthReportEntry> HealthAsync(IHost host, string name)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == name);
        return report.Entries[name];
    }

    private static async Task<List<string>> TreeAsync(ZooKeeperClient zk, string path)
    {
        var all = new List<string> { path };
        foreach (var child in (await zk.GetChildrenAsync(path)).Children)
        {
            all.AddRange(await TreeAsync(zk, (path == "/" ? string.Empty : path) + "/" + child));
        }

        return all;
    }

    [Fact]
    public async Task WithCredentials_EveryNodeTheLibraryCreates_IsTheCreatorsAndWorldReadable_AndKazooWithoutThemCanReadButNotDeleteOrQueue()
    {
        var ns = TestNamespace.Create();
        var secret = "pw-" + TestNamespace.NewId();
        using var host = BuildHost(ns, Servers.ZooKeeper, o => o.ZooKeeperAuth = "app:" + secret, everything: true);
        await RunAsync(host, async services =>
        {
            await using var held = await services.GetRequiredService<IDistributedLockProvider>().AcquireAsync("orders:42", TimeSpan.FromSeconds(10));
            await using var permit = await services.GetRequiredService<IDistributedSemaphoreProvider>().AcquireAsync("reports", 2, TimeSpan.FromSeconds(10));
            await using var read = await services.GetRequiredService<IDistributedReaderWriterLockProvider>().AcquireReadAsync("settings", TimeSpan.FromSeconds(10));
            await services.GetRequiredService<IZooKeeperConfigurationWriter>().SetAsync("Feature:On", "true");
            var election = services.GetRequiredKeyedService<ILeaderElection>("scheduler");
            await Poll.UntilAsync(() => election.IsLeader, "the only candidate leads");

            var zk = services.GetRequiredService<CoordinationConnections>().GetZooKeeper();
            var owner = ZooKeeperAcl.Digest("app", secret);
            IReadOnlyList<ZooKeeperAcl> expected = [owner, new ZooKeeperAcl(ZooKeeperPermissions.Read, "world", "anyone")];
            var tree = await TreeAsync(zk, "/");
            var lockDir = LockDir("orders:42");
            var lockNode = await HeldNodeAsync(zk, "orders:42");
            var registration = "/coordination/services/orders/orders-1";
            var electionNode = Assert.Single(tree, p => p.StartsWith("/coordination/elections/", StringComparison.Ordinal) && p.Count(c => c == '/') == 4);
            Assert.Contains(lockNode, tree);
            Assert.Contains(registration, tree);
            Assert.Contains("/config/app/Feature/On", tree);
            Assert.Contains(tree, p => p.StartsWith("/coordination/semaphores/", StringComparison.Ordinal) && p.Count(c => c == '/') == 4);
            Assert.Contains(tree, p => p.StartsWith("/coordination/rwlocks/", StringComparison.Ordinal) && p.Count(c => c == '/') == 4);
            foreach (var path in tree)
            {
                Assert.True(expected.SequenceEqual((await zk.GetAclAsync(path)).Acl), $"{path} has the ACL {string.Join(", ", (await zk.GetAclAsync(path)).Acl)}");
            }

            // The chroot node itself, seen from outside it (the digest is masked for others).
            await using var outside = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectionString = Servers.ZooKeeper });
            var chrootAcl = (await outside.GetAclAsync(ns.Chroot)).Acl;
            Assert.Equal(["digest:app:", "world:anyone"], chrootAcl.Select(a => a.Scheme + ":" + a.Id[..(a.Scheme == "digest" ? 4 : a.Id.Length)]));

            var probed = await Kazoo.RunAsync("probe", Servers.ZooKeeper + ns.Chroot, lockNode, lockDir, registration, "/config/app/Feature/On", electionNode);
            foreach (var path in new[] { lockNode, lockDir, registration, "/config/app/Feature/On", electionNode })
            {
                var r = probed.GetProperty(path);
                Assert.Equal("ok", r.GetProperty("read").GetString());
                Assert.Equal("NoAuthError", r.GetProperty("delete").GetString());
                Assert.Equal("NoAuthError", r.GetProperty("set").GetString());
            }

            Assert.Equal("NoAuthError", probed.GetProperty(lockDir).GetProperty("create").GetString());
            Assert.False(held.LostToken.IsCancellationRequested);
            Assert.NotNull(await zk.ExistsAsync(lockNode));
        });
    }

    [Fact]
    public async Task WithoutCredentials_NodesStayOpenToEveryone_AsBefore()
    {
        var ns = TestNamespace.Create();
        using var host = BuildHost(ns, Servers.ZooKeeper, _ => { });
        await RunAsync(host, async services =>
        {
            await using var held = await services.GetRequiredService<IDistributedLockProvider>().AcquireAsync("k", TimeSpan.FromSeconds(10));
            var zk = services.GetRequiredService<CoordinationConnections>().GetZooKeeper();
            Assert.Equal(ZooKeeperAcl.OpenUnsafe, (await zk.GetAclAsync(LockDir("k"))).Acl);
        });
    }

    [Fact]
    public async Task AWrongPassword_IsAnErrorAtStart_TheHealthCheckIsUnhealthy_AndLocksFailClosedSayingWhy()
    {
        var ns = TestNamespace.Create();
        using (var owner = BuildHost(ns, Servers.ZooKeeper, o => o.ZooKeeperAuth = "app:right"))
        {
            await RunAsync(owner, async services => await (await services.GetRequiredService<IDistributedLockProvider>().AcquireAsync("k", TimeSpan.FromSeconds(10))).DisposeAsync());
        }

        var logs = new CapturingLoggerProvider();
        var wrong = "bad-" + TestNamespace.NewId();
        using var host = BuildHost(ns, Servers.ZooKeeper, o => o.ZooKeeperAuth = "app:" + wrong, logs);
        await RunAsync(host, async services =>
        {
            await Poll.UntilAsync(() => logs.Entries.Any(e => e.EventId.Id == 2002), "the start-up access check reports the denial");
            var error = logs.Entries.First(e => e.EventId.Id == 2002);
            Assert.Equal(LogLevel.Error, error.Level);
            Assert.Contains("NoAuth", error.Message, StringComparison.Ordinal);
            Assert.Contains("digest user 'app' (Coordination:ZooKeeperAuth)", error.Message, StringComparison.Ordinal);
            Assert.Contains("'/coordination'", error.Message, StringComparison.Ordinal);
            Assert.Contains("digest:app (cdrwa), world:anyone (r)", error.Message, StringComparison.Ordinal);

            var health = await HealthAsync(host, "coordination-zookeeper");
            Assert.Equal(HealthStatus.Unhealthy, health.Status);
            Assert.Contains("NoAuth", health.Description, StringComparison.Ordinal);

            var locks = services.GetRequiredService<IDistributedLockProvider>();
            var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => locks.TryAcquireAsync("k", TimeSpan.Zero).AsTask());
            Assert.Contains("NoAuth", ex.Message, StringComparison.Ordinal);
            Assert.Contains("digest user 'app'", ex.Message, StringComparison.Ordinal);
            Assert.Contains("No lock was granted", ex.Message, StringComparison.Ordinal);
            Assert.IsType<NoAuthException>(ex.InnerException);
            Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains(wrong, StringComparison.Ordinal));
            Assert.DoesNotContain(wrong, ex.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task AnAdminIdentity_MayDeleteAHeldLocksNode_AndTheHolderLearnsItLostTheLock()
    {
        var ns = TestNamespace.Create();
        using var host = BuildHost(ns, Servers.ZooKeeper, o =>
        {
            o.ZooKeeperAuth = "app:pw";
            o.ZooKeeperAcl.AdminIdentities.Add("digest:" + ZooKeeperAcl.Digest("ops", "ops-pw").Id);
        });
        await RunAsync(host, async services =>
        {
            await using var held = await services.GetRequiredService<IDistributedLockProvider>().AcquireAsync("k", TimeSpan.FromSeconds(10));
            var options = new ZooKeeperClientOptions { ConnectionString = Servers.ZooKeeper + ns.Chroot };
            options.AuthInfo.Add(ZooKeeperAuthInfo.Digest("ops", "ops-pw"));
            await using var ops = await ZooKeeperClient.ConnectAsync(options);

            await ops.DeleteAsync(await HeldNodeAsync(ops, "k"));
            await Poll.UntilAsync(() => held.LostToken.IsCancellationRequested, "the holder learns its node was deleted");
        });
    }

    [Fact]
    public async Task OverTlsWithAClientCertificate_LocksWork_AndTheirNodesBelongToTheCertificatesX509Identity()
    {
        var ns = TestNamespace.Create();
        using var host = BuildHost(ns, Servers.ZooKeeperTls, o =>
        {
            o.ZooKeeperTls.Enabled = true;
            o.ZooKeeperTls.CaFile = Servers.TlsCaFile;
            o.ZooKeeperTls.ClientCertificateFile = Servers.TlsClientCertificateFile;
            o.ZooKeeperTls.ClientKeyFile = Servers.TlsClientKeyFile;
        });
        await RunAsync(host, async services =>
        {
            await using var held = await services.GetRequiredService<IDistributedLockProvider>().AcquireAsync("orders:7", TimeSpan.FromSeconds(10));
            var zk = services.GetRequiredService<CoordinationConnections>().GetZooKeeper();
            Assert.True(zk.UsesTls);
            var dir = LockDir("orders:7");
            var node = await HeldNodeAsync(zk, "orders:7");
            Assert.Equal(
                [new ZooKeeperAcl(ZooKeeperPermissions.All, "x509", "CN=coordination-client,O=Coordination"), new ZooKeeperAcl(ZooKeeperPermissions.Read, "world", "anyone")],
                (await zk.GetAclAsync(dir)).Acl);

            // The same server's plain port, no certificate: read yes, delete or queue no.
            var probed = await Kazoo.RunAsync("probe", Servers.ZooKeeperTlsPlain + ns.Chroot, node, dir);
            Assert.Equal("ok", probed.GetProperty(node).GetProperty("read").GetString());
            Assert.Equal("NoAuthError", probed.GetProperty(node).GetProperty("delete").GetString());
            Assert.Equal("NoAuthError", probed.GetProperty(dir).GetProperty("create").GetString());
            Assert.Equal(HealthStatus.Healthy, (await HealthAsync(host, "coordination-zookeeper")).Status);
        });
    }

    [Fact]
    public async Task AnUntrustedServerCertificate_IsAnErrorAtStart_TheHealthCheckSaysWhy_AndLocksFailClosedAtOnce()
    {
        using var certs = TestCertificates.Create();
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost(TestNamespace.Create(), Servers.ZooKeeperTls, o =>
        {
            o.ZooKeeperTls.Enabled = true;
            o.ZooKeeperTls.CaFile = certs.ForeignCaFile;
            o.OperationTimeout = TimeSpan.FromSeconds(30);
            o.ConnectTimeout = TimeSpan.FromSeconds(30);
        }, logs);
        await RunAsync(host, async services =>
        {
            await Poll.UntilAsync(() => logs.Entries.Any(e => e.EventId.Id == 1009), "the refused certificate is logged");
            Assert.Equal(LogLevel.Error, logs.Entries.First(e => e.EventId.Id == 1009).Level);

            var health = await HealthAsync(host, "coordination-zookeeper");
            Assert.Equal(HealthStatus.Unhealthy, health.Status);
            Assert.Contains("not trusted", health.Description, StringComparison.Ordinal);
            Assert.Contains(certs.ForeignCaFile, health.Description, StringComparison.Ordinal);

            // Fails at once with the reason, not after the 30 s connect timeout.
            var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => services.GetRequiredService<IDistributedLockProvider>().AcquireAsync("k", TimeSpan.FromSeconds(30)).AsTask());
            Assert.Contains("not trusted", ex.Message, StringComparison.Ordinal);
            Assert.Contains("No lock was granted", ex.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task TheConfigurationSourcesOwnSession_UsesItsTlsAndCredentials()
    {
        // builder.Configuration.AddZooKeeper(...) runs before DI and owns its session: its options carry the security.
        var root = "/cfg-" + TestNamespace.NewId();
        var write = new ZooKeeperClientOptions { ConnectionString = Servers.ZooKeeperTlsPlain, DefaultAcl = [ZooKeeperAcl.Digest("reader", "pw"), .. ZooKeeperAcl.CreatorAll] };
        write.AuthInfo.Add(ZooKeeperAuthInfo.Digest("reader", "pw"));
        await using (var admin = await ZooKeeperClient.ConnectAsync(write))
        {
            await admin.EnsurePathAsync(root + "/Payments");
            await admin.CreateAsync(root + "/Payments/Retries", "7"u8.ToArray()); // readable by 'reader' only
        }

        using var config = Configuration.ConfigTestEnvironment.Build(Configuration.ConfigTestEnvironment.Options(root, "coord:" + TestNamespace.NewId() + ":", zooKeeper: Servers.ZooKeeperTls, more: o =>
        {
            o.ZooKeeperTls.Enabled = true;
            o.ZooKeeperTls.CaFile = Servers.TlsCaFile;
            o.ZooKeeperAuth = "reader:pw";
            o.ConnectTimeout = TimeSpan.FromSeconds(10); // a TLS handshake can take seconds on a loaded machine
            o.OperationTimeout = TimeSpan.FromSeconds(15);
            o.StartupTimeout = TimeSpan.FromSeconds(30);
        }));

        Assert.Equal("7", config["Payments:Retries"]);
        var options = Configuration.ConfigTestEnvironment.Provider(config).Store.Options.ToString();
        Assert.Contains("ZooKeeperAuth=reader:*****", options, StringComparison.Ordinal);
        Assert.DoesNotContain(":pw", options, StringComparison.Ordinal);
    }

    [Fact]
    public void BadSecuritySettings_FailTheStart_WithMessagesNamingTheOptionAndNeverThePassword()
    {
        using var certs = TestCertificates.Create();
        var missing = Path.Combine(certs.Directory, "missing.pem");
        var cases = new (Action<HybridCoordinationOptions> Set, string Expected)[]
        {
            (o => o.ZooKeeperAuth = "no-colon-secret", "Coordination:ZooKeeperAuth must be 'user:password'"),
            (o => o.ZooKeeperAuth = "user:", "Coordination:ZooKeeperAuth must be 'user:password'"),
            (o => { o.ZooKeeperTls.Enabled = true; o.ZooKeeperTls.CaFile = missing; }, $"Coordination:ZooKeeperTls:CaFile '{missing}' cannot be read"),
            (o => o.ZooKeeperTls.CaFile = certs.ForeignCaFile, "Coordination:ZooKeeperTls:Enabled is false"),
            (o => { o.ZooKeeperTls.Enabled = true; o.ZooKeeperTls.ClientCertificateFile = certs.ExpiredClientCertificateFile; }, "Coordination:ZooKeeperTls:ClientCertificateFile"),
            (o => o.ZooKeeperAcl.AdminIdentities.Add("nocolon"), "Coordination:ZooKeeperAcl:AdminIdentities:0 'nocolon' must be 'scheme:id'"),
            (o => { o.ZooKeeperAuth = "a:b"; o.ZooKeeperAcl.AdminIdentities.Add("world:anyone"); }, "is not an identity"),
            (o => o.ZooKeeperAcl.AdminIdentities.Add("digest:ops:x"), "the session has no identity to own the nodes"),
            (o => o.RedisTls.CaFile = certs.ForeignCaFile, "TLS is off (Coordination:RedisTls:Enabled is false and Coordination:Redis has no ssl=true)"),
            (o => o.Redis = "127.0.0.1:1,password=top-secret-1,nonsense=1", "Coordination:Redis '127.0.0.1:1,password=*****,nonsense=1' is invalid"),
        };
        foreach (var (set, expected) in cases)
        {
            var services = new ServiceCollection();
            services.AddHybridCoordination(o =>
            {
                o.Redis = Servers.Redis;
                o.ZooKeeper = Servers.ZooKeeper;
                set(o);
            });
            using var provider = services.BuildServiceProvider();
            var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<HybridCoordinationOptions>>().Value);
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal);
        }
    }
}

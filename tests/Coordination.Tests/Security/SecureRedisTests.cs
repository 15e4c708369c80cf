using System.Collections.Concurrent;
using Coordination.Configuration;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using static Coordination.Tests.Configuration.ConfigTestEnvironment;

namespace Coordination.Tests.Security;

/// <summary>
/// Redis with an ACL user and TLS (eng/servers.sh's secure Redis: the default user is off, user <c>coord</c> may touch
/// keys and channels under <c>coord:</c> only): locks, the release bell and the configuration cache work over it.
/// </summary>
public sealed class SecureRedisTests
{
    private static TestServers Servers => TestServers.Current;

    private static string Tls => $"{Servers.RedisTls},ssl=true,user={Servers.RedisAclUser},password={Servers.RedisAclPassword}";

    private static string Acl => $"{Servers.RedisAcl},user={Servers.RedisAclUser},password={Servers.RedisAclPassword}";

    /// <summary>A multiplexer of the test's own, with the same user and trust (the server's certificate is from the test CA).</summary>
    private static async Task<ConnectionMultiplexer> AdminAsync()
    {
        var config = ConfigurationOptions.Parse(Tls);
        config.TrustIssuer(Servers.TlsCaFile);
        return await ConnectionMultiplexer.ConnectAsync(config);
    }

    private static LockNode Node(LockMode mode, TestNamespace ns, string redis, Action<HybridCoordinationOptions>? more = null) =>
        new(mode, "coord:" + ns.KeyPrefix, "/coordination", o =>
        {
            o.Redis = redis;
            o.ZooKeeper = Servers.ZooKeeper + ns.Chroot;
            o.RedisTls.CaFile = Servers.TlsCaFile;
            o.ConnectTimeout = TimeSpan.FromSeconds(10); // a TLS handshake can take seconds on a loaded machine
            more?.Invoke(o);
        });

    /// <summary>A Hybrid container (with health checks) whose Redis user is the ACL user with a wrong password.</summary>
    private static ServiceProvider WithWrongPassword(string redisEndpoint, string wrong, CapturingLoggerProvider logs, TimeSpan connectTimeout)
    {
        var ns = TestNamespace.Create();
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddProvider(logs));
        services.AddHybridCoordination(o =>
        {
            o.Redis = $"{redisEndpoint},ssl=true,user={Servers.RedisAclUser},password={wrong}";
            o.RedisTls.CaFile = Servers.TlsCaFile;
            o.ZooKeeper = Servers.ZooKeeper + ns.Chroot;
            o.RedisPrefix = "coord:" + ns.KeyPrefix;
            o.ConnectTimeout = connectTimeout;
        }).AddHealthChecks();
        services.AddHealthChecks();
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task HybridLocks_OverTlsWithAnAclUser_UseTheGateTheRecordAndTheReleaseBell()
    {
        var ns = TestNamespace.Create();
        var prefix = "coord:" + ns.KeyPrefix;
        await using var a = Node(LockMode.Hybrid, ns, Tls);
        await using var b = Node(LockMode.Hybrid, ns, Tls);
        using var admin = await AdminAsync();
        var rung = new ConcurrentQueue<string>();
        await admin.GetSubscriber().SubscribeAsync(RedisChannel.Literal(prefix + "released"), (_, m) => rung.Enqueue(m!));

        var held = await a.Locks.AcquireAsync("orders:1", TimeSpan.FromSeconds(10));
        // The record is written at the grant without holding it up: it appears just after.
        await Poll.UntilAsync(() => admin.GetDatabase().KeyExistsAsync(RedisLockRecord.Name(prefix, "orders:1", "lock")), "the lock's record is written over TLS");
        Assert.Null(await b.Locks.TryAcquireAsync("orders:1", TimeSpan.Zero));
        var waiting = b.Locks.AcquireAsync("orders:1", TimeSpan.FromSeconds(20)).AsTask();

        await held.DisposeAsync();
        await using var next = await waiting;

        await Poll.UntilAsync(() => rung.Any(m => m.Split('\n')[0] == "orders:1"), "the release bell rings over TLS"); // "<key>\n<node>"
        Assert.True(next.FencingToken > held.FencingToken);
        Assert.Equal(Diagnostics.CoordinationHealthMode.Normal, a.Status.Mode);
        Assert.Equal(Diagnostics.CoordinationHealthMode.Normal, b.Status.Mode);
    }

    [Fact]
    public async Task RedisOnlyLocks_WorkWithTheAclUserOnThePlainPort()
    {
        var ns = TestNamespace.Create();
        await using var node = Node(LockMode.RedisOnly, ns, Acl, o => o.RedisTls.CaFile = null);
        await using (var held = await node.Locks.AcquireAsync("k", TimeSpan.FromSeconds(10)))
        {
            Assert.True(held.FencingToken > 0);
        }

        await using var permit = await node.Semaphores.AcquireAsync("s", 2, TimeSpan.FromSeconds(10));
        await using var write = await node.ReaderWriter.AcquireWriteAsync("w", TimeSpan.FromSeconds(10));
        Assert.True(write.FencingToken > 0);
    }

    [Fact]
    public async Task TheConfigurationCache_OverTls_KeepsTheCopy_ThatAColdStartWithoutZooKeeperServes()
    {
        var root = NewRoot();
        var prefix = "coord:" + TestNamespace.NewId() + ":";
        using (var writer = Build(Options(root, prefix, redis: Tls, more: o =>
        {
            o.Optional = true;
            o.RedisTls.CaFile = Servers.TlsCaFile;
            o.ConnectTimeout = TimeSpan.FromSeconds(10);
            o.StartupTimeout = TimeSpan.FromSeconds(30);
        })))
        {
            await Provider(writer).Writer.SetAsync("Payments:Retries", "5");
            using var admin = await AdminAsync();
            await Poll.UntilAsync(async () => await admin.GetDatabase().KeyExistsAsync($"{prefix}{{config:{root}}}:snapshot"), "the Redis copy is written over TLS");
        }

        using var cold = Build(Options(root, prefix, zooKeeper: ClosedEndpoint(), redis: Tls, more: o =>
        {
            o.RedisTls.CaFile = Servers.TlsCaFile;
            o.ConnectTimeout = TimeSpan.FromSeconds(10); // Redis over TLS; ZooKeeper (closed) still gets the 2 s start-up wait
        }));

        Assert.Equal("5", cold["Payments:Retries"]);
        Assert.Equal(ZooKeeperConfigurationState.Cached, Provider(cold).State);
    }

    [Fact]
    public async Task AWrongPassword_IsDegradedInHybridMode_WithoutThePasswordAnywhere()
    {
        var wrong = "nope-" + TestNamespace.NewId();
        var logs = new CapturingLoggerProvider();
        // Long enough for the TLS handshake and the refused AUTH under load.
        await using var provider = WithWrongPassword(Servers.RedisTls, wrong, logs, TimeSpan.FromSeconds(10));

        await using (var held = await provider.GetRequiredService<IDistributedLockProvider>().AcquireAsync("k", TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(LockMode.Hybrid, held.Mode); // ZooKeeper decides; Redis is only skipped
        }

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "coordination-redis");
        var redis = report.Entries["coordination-redis"];
        Assert.Equal(HealthStatus.Degraded, redis.Status);
        // Logged at the first refused attempt (the multiplexer's failure tap); the health checks only wait alongside.
        var seen = redis.Description;
        await Poll.UntilAsync(
            async () =>
            {
                seen = (await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "coordination-redis")).Entries["coordination-redis"].Description;
                return logs.Entries.Any(e => e.EventId.Id == 2004);
            },
            "the refused Redis connection is logged as an error",
            detail: () => "the health check said: " + seen);
        var refused = logs.Entries.Where(e => e.EventId.Id == 2004).ToList();
        Assert.Single(refused);
        Assert.Equal(LogLevel.Error, refused[0].Level);
        Assert.Contains("AuthenticationFailure", refused[0].Message, StringComparison.Ordinal);
        Assert.Contains("password=*****", redis.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, redis.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains(wrong, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWrongPassword_IsLogged_WhenTheFirstConnectionFailedForAnotherReason()
    {
        // StackExchange.Redis reports only the first failure of a connection (until it is restored), and that one
        // happens before the multiplexer is handed over. Here it is a reset (the gate is closed), so the refusals of
        // the attempts after the gate opens are seen only by the multiplexer's logger: the refusal must still be logged.
        var wrong = "nope-" + TestNamespace.NewId();
        await using var gate = new TcpGate(Servers.RedisTls);
        var logs = new CapturingLoggerProvider();
        // The multiplexer retries after half the connect timeout, and more slowly after that.
        await using var provider = WithWrongPassword(gate.Endpoint, wrong, logs, TimeSpan.FromSeconds(4));
        var connections = provider.GetRequiredService<ICoordinationConnections>();

        var mux = await connections.GetRedisAsync();
        Assert.False(mux.IsConnected);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 2004); // a reset is not a refusal

        gate.Open();
        await Poll.UntilAsync(
            () => logs.Entries.Any(e => e.EventId.Id == 2004),
            "the refusal after the gate opened is logged as an error",
            timeout: TimeSpan.FromSeconds(60));
        var refused = Assert.Single(logs.Entries, e => e.EventId.Id == 2004);
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.Contains("AuthenticationFailure", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains(wrong, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUntrustedCertificate_IsNamedInTheHealthCheck()
    {
        using var certs = TestCertificates.Create();
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddProvider(logs));
        services.AddHybridCoordination(o =>
        {
            o.Mode = LockMode.RedisOnly;
            o.Redis = Tls;
            o.RedisTls.CaFile = certs.ForeignCaFile;
            o.RedisPrefix = "coord:" + TestNamespace.NewId() + ":";
            o.ConnectTimeout = TimeSpan.FromSeconds(2);
        }).AddHealthChecks();
        services.AddHealthChecks();
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == "coordination-redis");
        var redis = report.Entries["coordination-redis"];
        Assert.Equal(HealthStatus.Unhealthy, redis.Status);
        Assert.Contains("not trusted", redis.Description, StringComparison.Ordinal);
        Assert.Contains(certs.ForeignCaFile, redis.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(Servers.RedisAclPassword, redis.Description, StringComparison.Ordinal);

        var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => provider.GetRequiredService<IDistributedLockProvider>().AcquireAsync("k", TimeSpan.FromSeconds(5)).AsTask());
        Assert.Contains("not trusted", ex.Message, StringComparison.Ordinal);
        var refused = Assert.Single(logs.Entries, e => e.EventId.Id == 2004);
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.Contains("not trusted", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Servers.RedisAclPassword, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientCertificate_IsPresentedToRedis()
    {
        // The secure Redis checks a client certificate when one is sent (tls-auth-clients optional): a foreign one is refused.
        using var certs = TestCertificates.Create();
        var ns = TestNamespace.Create();
        await using var trusted = Node(LockMode.RedisOnly, ns, Tls, o =>
        {
            o.RedisTls.ClientCertificateFile = Servers.TlsClientCertificateFile;
            o.RedisTls.ClientKeyFile = Servers.TlsClientKeyFile;
        });
        await using (await trusted.Locks.AcquireAsync("k", TimeSpan.FromSeconds(10)))
        {
        }

        await using var foreign = Node(LockMode.RedisOnly, ns, Tls, o =>
        {
            o.RedisTls.ClientCertificateFile = certs.ForeignClientCertificateFile;
            o.RedisTls.ClientKeyFile = certs.ForeignClientKeyFile;
            o.ConnectTimeout = TimeSpan.FromSeconds(2);
        });
        await Assert.ThrowsAsync<LockUnavailableException>(() => foreign.Locks.AcquireAsync("k", TimeSpan.FromSeconds(3)).AsTask());
    }

    [Fact]
    public void RedisTlsOptions_AreValidated_AndSslTrueInTheStringCountsAsOn()
    {
        using var certs = TestCertificates.Create();
        static string? Validate(Action<HybridCoordinationOptions> set)
        {
            var o = new HybridCoordinationOptions { Redis = Servers.Redis, ZooKeeper = Servers.ZooKeeper };
            set(o);
            var result = new DependencyInjection.HybridCoordinationOptionsValidator().Validate(null, o);
            return result.Failed ? result.FailureMessage : null;
        }

        Assert.Null(Validate(o => { o.Redis = Servers.RedisTls + ",ssl=true"; o.RedisTls.CaFile = certs.ForeignCaFile; }));
        Assert.Null(Validate(o => { o.RedisTls.Enabled = true; o.RedisTls.CaFile = certs.ForeignCaFile; }));
        Assert.Contains("Coordination:RedisTls:ClientCertificateFile", Validate(o => { o.RedisTls.Enabled = true; o.RedisTls.ClientCertificateFile = certs.ExpiredClientCertificateFile; }), StringComparison.Ordinal);
        Assert.Contains("Coordination:RedisTls:CaFile", Validate(o => { o.RedisTls.Enabled = true; o.RedisTls.CaFile = certs.ForeignClientKeyFile; }), StringComparison.Ordinal);
    }
}

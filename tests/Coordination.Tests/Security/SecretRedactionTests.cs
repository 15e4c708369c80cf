using System.Text.Json;
using Coordination.Configuration;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.Tests.Security;

/// <summary>
/// Passwords never leave the options: every log entry (all levels, exceptions included), exception message, health
/// report and options string of hosts that use them, succeed and fail with them is searched for the secrets.
/// </summary>
public sealed class SecretRedactionTests
{
    private static TestServers Servers => TestServers.Current;

    private static IHost Host(TestNamespace ns, CapturingLoggerProvider logs, string redis, string zooKeeperAuth, string writer, LockMode mode = LockMode.Hybrid)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs);
        builder.Services.AddHybridCoordination(o =>
        {
            o.Mode = mode;
            o.Redis = redis;
            o.RedisTls.CaFile = Servers.TlsCaFile;
            o.ZooKeeper = Servers.ZooKeeper + ns.Chroot;
            o.ZooKeeperAuth = zooKeeperAuth;
            o.RedisPrefix = "coord:" + ns.KeyPrefix;
            o.ConnectTimeout = TimeSpan.FromSeconds(10); // a TLS handshake can take seconds on a loaded machine
            o.OperationTimeout = TimeSpan.FromSeconds(15);
        })
        .AddHealthChecks()
        .AddZooKeeperConfiguration("/config/app", o =>
        {
            o.Optional = true;
            o.WriterCredentials = writer;
        })
        .AddConfigurationHealthCheck();
        return builder.Build();
    }

    private static async Task<string> HealthJsonAsync(IHost host)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return JsonSerializer.Serialize(report.Entries.ToDictionary(e => e.Key, e => new
        {
            status = e.Value.Status.ToString(),
            description = e.Value.Description,
            data = e.Value.Data.ToDictionary(d => d.Key, d => d.Value?.ToString()),
            exception = e.Value.Exception?.ToString(),
        }));
    }

    [Fact]
    public async Task Passwords_AreInNoLogEntry_ExceptionMessage_HealthReport_OrOptionsString()
    {
        var ns = TestNamespace.Create();
        var zkSecret = "zk-" + TestNamespace.NewId();
        var writerSecret = "wr-" + TestNamespace.NewId();
        var wrongRedis = "rw-" + TestNamespace.NewId();
        var wrongZk = "zw-" + TestNamespace.NewId();
        string[] secrets = [Servers.RedisAclPassword, zkSecret, writerSecret, wrongRedis, wrongZk];
        var good = $"{Servers.RedisTls},ssl=true,user={Servers.RedisAclUser},password={Servers.RedisAclPassword}";
        var logs = new CapturingLoggerProvider();
        var seen = new List<string>();

        // Everything works: locks, a configuration write, health.
        using (var host = Host(ns, logs, good, "app:" + zkSecret, "writer:" + writerSecret))
        {
            await host.StartAsync();
            var locks = host.Services.GetRequiredService<IDistributedLockProvider>();
            await using (var held = await locks.AcquireAsync("orders:1", TimeSpan.FromSeconds(10)))
            {
                Assert.True(held.FencingToken > 0);
            }

            await host.Services.GetRequiredService<IZooKeeperConfigurationWriter>().SetAsync("Feature:On", "true");
            seen.Add(await HealthJsonAsync(host));
            seen.Add(host.Services.GetRequiredService<IOptions<HybridCoordinationOptions>>().Value.ToString());
            seen.Add(host.Services.GetRequiredService<ZooKeeperConfigurationProvider>().Store.Options.ToString());
            await host.StopAsync();
        }

        // Wrong Redis password (RedisOnly: the lock fails) and wrong ZooKeeper password (the access check and locks fail).
        using (var host = Host(ns, logs, $"{Servers.RedisTls},ssl=true,user={Servers.RedisAclUser},password={wrongRedis}", "app:" + wrongZk, "writer:" + writerSecret, LockMode.RedisOnly))
        {
            await host.StartAsync();
            var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => host.Services.GetRequiredService<IDistributedLockProvider>().AcquireAsync("k", TimeSpan.FromSeconds(3)).AsTask());
            seen.Add(ex.ToString());
            seen.Add(await HealthJsonAsync(host));
            await host.StopAsync();
        }

        using (var host = Host(ns, logs, good, "app:" + wrongZk, "writer:" + wrongZk))
        {
            await host.StartAsync();
            await Poll.UntilAsync(() => logs.Entries.Any(e => e.EventId.Id == 2002), "the access check reports the wrong ZooKeeper password");
            var ex = await Assert.ThrowsAsync<LockUnavailableException>(() => host.Services.GetRequiredService<IDistributedLockProvider>().AcquireAsync("k", TimeSpan.FromSeconds(3)).AsTask());
            seen.Add(ex.ToString());
            var denied = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => host.Services.GetRequiredService<IZooKeeperConfigurationWriter>().SetAsync("Other", "x"));
            seen.Add(denied.ToString());
            seen.Add(await HealthJsonAsync(host));
            await host.StopAsync();
        }

        // Invalid options name the option, not the value's secret.
        var services = new ServiceCollection();
        services.AddHybridCoordination(o =>
        {
            o.Redis = $"127.0.0.1:1,password={Servers.RedisAclPassword},bogus=1";
            o.ZooKeeper = Servers.ZooKeeper;
            o.ZooKeeperAuth = zkSecret; // no user part
        });
        using (var provider = services.BuildServiceProvider())
        {
            seen.Add(Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<HybridCoordinationOptions>>().Value).Message);
        }

        Assert.Contains(logs.Entries, e => e.EventId.Id == 2002);
        Assert.True(logs.Entries.Count > 20, $"only {logs.Entries.Count} log entries were captured");
        foreach (var secret in secrets)
        {
            foreach (var entry in logs.Entries)
            {
                var text = entry + " " + entry.Exception;
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A log entry shows a password: {text}");
            }

            foreach (var text in seen)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A message shows a password: {text}");
            }
        }

        Assert.Contains(seen, s => s.Contains("password=*****", StringComparison.Ordinal));
        Assert.Contains(seen, s => s.Contains("ZooKeeperAuth=app:*****", StringComparison.Ordinal));
        Assert.Contains(seen, s => s.Contains("WriterCredentials=writer:*****", StringComparison.Ordinal));
    }
}

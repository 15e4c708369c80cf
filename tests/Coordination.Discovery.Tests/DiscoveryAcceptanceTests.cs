using System.Diagnostics;
using System.Text.Json;
using Coordination.Testing;
using Coordination.ZooKeeper;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.Discovery.Tests;

/// <summary>Issue 9's acceptance cases, on real Redis and ZooKeeper with real Kestrel on 127.0.0.1.</summary>
public sealed class DiscoveryAcceptanceTests
{
    private const string Service = "orders-api";

    [Fact]
    public async Task TwoInstancesRegister_AThirdResolvesAndReachesBothThroughHttpClient()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a", o => o.Metadata["zone"] = "z1");
        await using var b = await TestApps.StartInstanceAsync(scope, Service, "b", o => o.Version = "2.0.0");
        await using var client = TestApps.BuildClient(scope, Service);

        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 2, "both instances discovered");
        var seen = await TestApps.ReachAsync(client, Service, 6);

        Assert.Equal(["a", "b"], seen.Order());
        var instances = await client.GetRequiredService<IServiceDiscovery>().GetInstancesAsync(Service);
        Assert.Equal(new Uri(a.Address()), instances[0].Endpoints.Single());
        Assert.Equal("z1", instances[0].Metadata["zone"]);
        Assert.Equal("2.0.0", instances[1].Version);
        Assert.All(instances, i => Assert.Equal(ServiceInstanceStatus.Up, i.Status));
    }

    [Fact]
    public async Task Registration_WritesEphemeralJsonNodeUnderTheConfiguredRoot()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a", o => o.Metadata["zone"] = "z1");
        await using var zk = await DiscoveryEnv.ConnectAsync();

        var node = await zk.GetDataAsync($"{scope.Root}/services/{Service}/a");

        Assert.Equal(a.Connections().ZooKeeperIfCreated!.SessionId, node.Stat.EphemeralOwner);
        using var json = JsonDocument.Parse(node.Data);
        var root = json.RootElement;
        Assert.Equal("a", root.GetProperty("instanceId").GetString());
        Assert.Equal(new Uri(a.Address()), new Uri(root.GetProperty("endpoints")[0].GetString()!));
        Assert.Equal("z1", root.GetProperty("metadata").GetProperty("zone").GetString());
        Assert.Equal("up", root.GetProperty("status").GetString());
        Assert.True(root.TryGetProperty("version", out _));
        Assert.True(root.GetProperty("registeredAt").GetDateTimeOffset() > DateTimeOffset.UnixEpoch);
    }

    [Fact]
    public async Task GracefulStop_RemovesTheInstanceAtOnce()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var b = await TestApps.StartInstanceAsync(scope, Service, "b");
        await using var client = TestApps.BuildClient(scope, Service);
        await using var zk = await DiscoveryEnv.ConnectAsync();
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 2, "both instances discovered");

        await b.StopAsync();

        // The node is deleted before StopAsync returns, not when the session times out (b's session is still open).
        Assert.Null(await zk.ExistsAsync($"{scope.Root}/services/{Service}/b"));
        Assert.Equal(ZooKeeperState.Connected, b.Connections().ZooKeeperIfCreated!.State);
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).SequenceEqual(["a"]), "client sees b gone");
        Assert.Equal(["a"], await TestApps.ReachAsync(client, Service, 4));
    }

    [Fact]
    public async Task KilledProcess_IsRemovedWithinTheSessionTimeout_AndShowsUpAgainAfterRestart()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var client = TestApps.BuildClient(scope, Service);
        using var child = await ChildInstance.StartAsync(scope, Service, "child");
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 2, "child discovered");
        Assert.Equal(["a", "child"], (await TestApps.ReachAsync(client, Service, 6)).Order());

        child.Kill();

        // Nothing deletes the node but the server's session expiry: session timeout plus one tick of slack, plus the watch.
        await Poll.UntilAsync(
            async () => (await TestApps.InstanceIdsAsync(client, Service)).SequenceEqual(["a"]),
            "killed child removed",
            DiscoveryEnv.SessionTimeout + TimeSpan.FromSeconds(3));
        Assert.Equal(["a"], await TestApps.ReachAsync(client, Service, 4));

        using var restarted = await ChildInstance.StartAsync(scope, Service, "child");
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 2, "restarted child discovered");
        Assert.Equal(["a", "child"], (await TestApps.ReachAsync(client, Service, 6)).Order());
    }

    [Fact]
    public async Task SessionExpiry_ReregistersWithoutRestart()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var client = TestApps.BuildClient(scope, Service);
        await using var zk = await DiscoveryEnv.ConnectAsync();
        var path = $"{scope.Root}/services/{Service}/a";
        var original = a.Connections().ZooKeeperIfCreated!;
        var oldOwner = (await zk.ExistsAsync(path))!.EphemeralOwner;
        Assert.Equal(original.SessionId, oldOwner);

        await DiscoveryEnv.ExpireAsync(original);

        await Poll.UntilAsync(
            async () => await zk.ExistsAsync(path) is { } stat && stat.EphemeralOwner != oldOwner,
            "node re-created by a new session");
        var replacement = a.Connections().ZooKeeperIfCreated!;
        Assert.NotSame(original, replacement);
        Assert.Equal(replacement.SessionId, (await zk.ExistsAsync(path))!.EphemeralOwner);
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).SequenceEqual(["a"]), "client sees a");
        Assert.Equal(["a"], await TestApps.ReachAsync(client, Service, 2));
    }

    [Fact]
    public async Task NodeDeletedByHand_IsRecreated()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var zk = await DiscoveryEnv.ConnectAsync();
        var path = $"{scope.Root}/services/{Service}/a";
        var before = (await zk.ExistsAsync(path))!;

        await zk.DeleteAsync(path);

        await Poll.UntilAsync(async () => await zk.ExistsAsync(path) is { } stat && stat.Czxid != before.Czxid, "node re-created");
        Assert.Equal(a.Connections().ZooKeeperIfCreated!.SessionId, (await zk.ExistsAsync(path))!.EphemeralOwner);
    }

    [Fact]
    public async Task DiscoveringClient_SurvivesItsOwnSessionExpiry()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var client = TestApps.BuildClient(scope, Service);
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 1, "a discovered");

        await DiscoveryEnv.ExpireAsync(client.GetRequiredService<ICoordinationConnections>().ZooKeeperIfCreated!);
        await using var b = await TestApps.StartInstanceAsync(scope, Service, "b");

        // b registered after the client's watches died with its session: only the re-established watch can see it.
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 2, "b discovered on the new session");
    }

    [Fact]
    public async Task InstancesChanged_FiresWhenInstancesComeAndGo()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var client = TestApps.BuildClient(scope, Service);
        var discovery = client.GetRequiredService<IServiceDiscovery>();
        var events = new System.Collections.Concurrent.ConcurrentQueue<string[]>();
        discovery.InstancesChanged += (_, e) => events.Enqueue([.. e.Instances.Select(i => i.InstanceId)]);
        Assert.Empty(await discovery.GetInstancesAsync(Service));

        var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await Poll.UntilAsync(() => events.Any(e => e.SequenceEqual(["a"])), "event with a");
        await a.StopAsync();
        await a.DisposeAsync();
        await Poll.UntilAsync(() => events.LastOrDefault() is { Length: 0 }, "event with no instance");
    }

    [Fact]
    public async Task WatchedList_IsSharedInRedis_AndAnswersColdLookupsWhenZooKeeperIsDown()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a");
        await using var watcher = TestApps.BuildClient(scope, Service);
        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(watcher, Service)).Length == 1, "a discovered");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(DiscoveryEnv.Redis);
        var key = scope.Prefix + "services:" + Service;
        await Poll.UntilAsync(async () => (await redis.GetDatabase().StringGetAsync(key)).HasValue, "copy in Redis");
        using (var doc = JsonDocument.Parse((string)(await redis.GetDatabase().StringGetAsync(key))!))
        {
            Assert.Equal(Service, doc.RootElement.GetProperty("service").GetString());
            Assert.True(doc.RootElement.GetProperty("zxid").GetInt64() > 0);
            Assert.Equal("a", doc.RootElement.GetProperty("instances")[0].GetProperty("instanceId").GetString());
        }

        // A process whose ZooKeeper is unreachable (nothing listens on port 1) still finds and reaches a through Redis.
        await using var cold = TestApps.BuildClient(scope, Service, o => o.ZooKeeper = "127.0.0.1:1", d => d.ColdLookupTimeout = TimeSpan.FromMilliseconds(300));
        var instances = await cold.GetRequiredService<IServiceDiscovery>().GetInstancesAsync(Service);
        Assert.Equal(["a"], instances.Select(i => i.InstanceId));
        Assert.Equal(["a"], await TestApps.ReachAsync(cold, Service, 2));
    }

    [Fact]
    public async Task ColdLookup_WithZooKeeperDownAndNoRedisCopy_FailsNamingTheService()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var cold = TestApps.BuildClient(scope, "nobody", o =>
        {
            o.ZooKeeper = "127.0.0.1:1";
            o.OperationTimeout = TimeSpan.FromSeconds(1);
        }, d => d.ColdLookupTimeout = TimeSpan.FromMilliseconds(200));

        var ex = await Assert.ThrowsAsync<ServiceDiscoveryException>(() => cold.GetRequiredService<IServiceDiscovery>().GetInstancesAsync("nobody").AsTask());

        Assert.Contains("'nobody'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateInstanceId_FromAnotherLiveSession_FailsStartupNamingTheId()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "same");

        var ex = await Assert.ThrowsAsync<ServiceDiscoveryException>(() => TestApps.StartInstanceAsync(scope, Service, "same"));

        Assert.Contains("'same'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("another live ZooKeeper session", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WildcardBinding_IsAnnouncedWithTheAdvertisedHost()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a", o => o.AdvertisedHost = "127.0.0.1", url: "http://0.0.0.0:0");
        await using var client = TestApps.BuildClient(scope, Service);

        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 1, "a discovered");
        var endpoint = (await client.GetRequiredService<IServiceDiscovery>().GetInstancesAsync(Service)).Single().Endpoints.Single();

        Assert.Equal("127.0.0.1", endpoint.Host);
        Assert.Equal(new Uri(a.Address()).Port, endpoint.Port);
        Assert.Equal(["a"], await TestApps.ReachAsync(client, Service, 2));
    }

    [Fact]
    public async Task ExplicitEndpoints_OverrideTheBoundAddresses()
    {
        var scope = DiscoveryEnv.NewScope();
        await using var a = await TestApps.StartInstanceAsync(scope, Service, "a", o => o.Endpoints.Add("https://orders-1.example:8443"));
        await using var client = TestApps.BuildClient(scope, Service);

        await Poll.UntilAsync(async () => (await TestApps.InstanceIdsAsync(client, Service)).Length == 1, "a discovered");
        var instance = (await client.GetRequiredService<IServiceDiscovery>().GetInstancesAsync(Service)).Single();

        Assert.Equal([new Uri("https://orders-1.example:8443")], instance.Endpoints);
    }

    /// <summary>The test host app in its own process, so it can be killed without a graceful shutdown.</summary>
    private sealed class ChildInstance : IDisposable
    {
        private readonly Process _process;

        private ChildInstance(Process process) => _process = process;

        public static async Task<ChildInstance> StartAsync((string Root, string Prefix) scope, string service, string instanceId)
        {
            var dll = Path.Combine(AppContext.BaseDirectory.Replace("Coordination.Discovery.Tests", "Coordination.Discovery.TestHost", StringComparison.Ordinal), "Coordination.Discovery.TestHost.dll");
            Assert.True(File.Exists(dll), $"Test host not built at {dll}");
            var psi = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                dll,
                $"--Coordination:ZooKeeper={DiscoveryEnv.ZooKeeper}",
                $"--Coordination:Redis={DiscoveryEnv.Redis}",
                $"--Coordination:ZooKeeperRoot={scope.Root}",
                $"--Coordination:RedisPrefix={scope.Prefix}",
                $"--Coordination:SessionTimeout={DiscoveryEnv.SessionTimeout}",
                $"--Service={service}",
                $"--InstanceId={instanceId}",
            })
            {
                psi.ArgumentList.Add(arg);
            }

            var process = Process.Start(psi)!;
            var child = new ChildInstance(process);
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                {
                    if (line.StartsWith("LISTENING ", StringComparison.Ordinal))
                    {
                        return child;
                    }
                }

                throw new InvalidOperationException($"Test host exited with {process.ExitCode} before listening.");
            }
            catch
            {
                child.Dispose();
                throw;
            }
        }

        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                Kill();
            }

            _process.Dispose();
        }
    }
}

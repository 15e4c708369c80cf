using System.Collections.Concurrent;
using System.Text;
using Coordination.Configuration;
using Coordination.Testing;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using static Coordination.Tests.Configuration.ConfigTestEnvironment;

namespace Coordination.Tests.Configuration;

public sealed class ZooKeeperConfigurationSourceTests
{
    public sealed class PaymentOptions
    {
        public int Retries { get; set; }

        public string? Gateway { get; set; }
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Load_MapsNodesAndFlattensJsonNodes()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        await PutAsync(zk, root + "/Shipping", """{"Carrier":"dhl","Zones":["eu","us"]}""");

        using var config = Build(Options(root, NewPrefix()));

        Assert.Equal("3", config["Payments:Retries"]);
        Assert.Equal("dhl", config["Shipping:Carrier"]);
        Assert.Equal("us", config["Shipping:Zones:1"]);
        Assert.Equal(ZooKeeperConfigurationState.Live, Provider(config).State);
    }

    [Fact]
    public async Task OptionsMonitor_OnChange_FiresWithNewValue_WhenAnIndependentClientChangesANode()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        using var config = Build(Options(root, NewPrefix()));
        using var services = new ServiceCollection().Configure<PaymentOptions>(config.GetSection("Payments")).BuildServiceProvider();
        var monitor = services.GetRequiredService<IOptionsMonitor<PaymentOptions>>();
        Assert.Equal(3, monitor.CurrentValue.Retries);
        var seen = new ConcurrentQueue<int>();
        using var _ = monitor.OnChange(o => seen.Enqueue(o.Retries));

        await zk.SetDataAsync(root + "/Payments/Retries", B("7"));

        await Poll.UntilAsync(() => seen.Contains(7), "OnChange with Retries = 7");
        Assert.Equal(7, monitor.CurrentValue.Retries);
    }

    [Fact]
    public async Task ReloadToken_FiresOncePerBatchOfQuickChanges()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        for (var i = 0; i < 5; i++)
        {
            await PutAsync(zk, $"{root}/K{i}", "0");
        }

        using var config = Build(Options(root, NewPrefix(), more: o => o.ReloadDelay = TimeSpan.FromMilliseconds(200)));
        var provider = Provider(config);
        var reloads = 0;
        using var _ = ChangeToken.OnChange(provider.GetReloadToken, () => Interlocked.Increment(ref reloads));

        // Five changes in one transaction: their five watch events arrive back to back.
        await zk.MultiAsync(Enumerable.Range(0, 5).Select(i => ZooKeeperOp.SetData($"{root}/K{i}", B("1"))));
        await Poll.UntilAsync(() => Enumerable.Range(0, 5).All(i => config[$"K{i}"] == "1"), "all five values");
        Assert.Equal(1, Volatile.Read(ref reloads));

        // The next change is a second batch: nothing else fired in between.
        await zk.SetDataAsync($"{root}/K0", B("2"));
        await Poll.UntilAsync(() => config["K0"] == "2", "the second batch");
        Assert.Equal(2, Volatile.Read(ref reloads));
    }

    [Fact]
    public async Task OnConfigurationChanged_ReceivesOnlyTheChangedKeysUnderItsPath()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        await PutAsync(zk, root + "/Payments/Gateway", "a");
        await PutAsync(zk, root + "/Shipping/Carrier", "dhl");
        using var config = Build(Options(root, NewPrefix(), more: o => o.ReloadDelay = TimeSpan.FromMilliseconds(200)));
        var payments = new ConcurrentQueue<ZooKeeperConfigurationChange>();
        var all = new ConcurrentQueue<ZooKeeperConfigurationChange>();
        using var s1 = config.OnConfigurationChanged("Payments", payments.Enqueue);
        using var s2 = config.OnConfigurationChanged(string.Empty, all.Enqueue);

        await zk.MultiAsync([ZooKeeperOp.SetData(root + "/Payments/Retries", B("4")), ZooKeeperOp.SetData(root + "/Shipping/Carrier", B("ups"))]);
        await Poll.UntilAsync(() => !all.IsEmpty, "the change callback");

        var change = Assert.Single(payments);
        Assert.Equal(root, change.Root);
        Assert.Equal(["Payments:Retries"], change.ChangedKeys);
        Assert.Equal(["Payments:Retries", "Shipping:Carrier"], Assert.Single(all).ChangedKeys);
    }

    [Fact]
    public async Task DeletedNode_RemovesItsKeys_AndReportsThemChanged()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        await PutAsync(zk, root + "/Payments/Gateway", "a");
        using var config = Build(Options(root, NewPrefix()));
        var changes = new ConcurrentQueue<ZooKeeperConfigurationChange>();
        using var _ = config.OnConfigurationChanged("Payments", changes.Enqueue);

        await zk.DeleteAsync(root + "/Payments/Gateway");

        await Poll.UntilAsync(() => config["Payments:Gateway"] is null, "the deleted key to disappear");
        Assert.Contains(changes, c => c.ChangedKeys.Contains("Payments:Gateway"));
        Assert.Equal("3", config["Payments:Retries"]);
    }

    [Fact]
    public async Task SecondInstance_SeesAChangeWrittenThroughTheFirst()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        using var first = Build(Options(root, prefix));
        using var second = Build(Options(root, prefix));

        var version = await Provider(first).Writer.SetAsync("Payments:Retries", "9");

        Assert.Equal(1, version);
        Assert.Equal("9", first["Payments:Retries"]); // the writer's own instance is updated before SetAsync returns
        await Poll.UntilAsync(() => second["Payments:Retries"] == "9", "the second instance to see the write");
    }

    [Fact]
    public async Task SeveralInstances_AllSeeAChangeMadeWithZkCli()
    {
        const string ZkCli = "/usr/share/zookeeper/bin/zkCli.sh";
        Assert.True(File.Exists(ZkCli), $"{ZkCli} is required (Debian package zookeeper).");
        var root = NewRoot();
        var prefix = NewPrefix();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        var instances = Enumerable.Range(0, 3).Select(_ => Build(Options(root, prefix))).ToList();
        var monitors = instances.Select(c => new ServiceCollection().Configure<PaymentOptions>(c.GetSection("Payments")).BuildServiceProvider()).ToList();
        var fired = new int[instances.Count];
        var subscriptions = monitors.Select((sp, i) => sp.GetRequiredService<IOptionsMonitor<PaymentOptions>>().OnChange(o =>
        {
            if (o.Retries == 11)
            {
                Interlocked.Exchange(ref fired[i], 1);
            }
        })).ToList();
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(ZkCli, ["-server", ZooKeeperEndpoint, "set", root + "/Payments/Retries", "11"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, $"zkCli.sh failed: {await stdout} {await stderr}");

            await Poll.UntilAsync(() => Enumerable.Range(0, fired.Length).All(i => Volatile.Read(ref fired[i]) == 1), "OnChange in every instance");
        }
        finally
        {
            subscriptions.ForEach(s => s?.Dispose());
            monitors.ForEach(m => m.Dispose());
            instances.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task SessionExpiry_WatchesAreRecreatedOnTheNewSession()
    {
        var root = NewRoot();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        using var config = Build(Options(root, NewPrefix()));
        var connections = Provider(config).Store.Connections;
        var expired = connections.GetZooKeeper();
        var replaced = new TaskCompletionSource();
        connections.ZooKeeperSessionReplaced += (_, _) => replaced.TrySetResult();

        await ExpireAsync(expired, () => replaced.Task.IsCompleted);
        await replaced.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // A change made right after the expiry (possibly before the new session's watch exists) is caught up too.
        await zk.SetDataAsync(root + "/Payments/Retries", B("4"));
        await Poll.UntilAsync(() => config["Payments:Retries"] == "4", "the change after session expiry");

        await zk.SetDataAsync(root + "/Payments/Retries", B("5"));
        await Poll.UntilAsync(() => config["Payments:Retries"] == "5", "a change seen by the new session's watch");
        Assert.NotSame(expired, connections.GetZooKeeper());
    }

    /// <summary>Expires a session on purpose (twin connection closed), until <paramref name="done"/>.</summary>
    private static Task ExpireAsync(ZooKeeperClient client, Func<bool> done) =>
        Coordination.Testing.ZooKeeperSessionFaults.ExpireSessionAsync(client, ZooKeeperEndpoint, done);
}

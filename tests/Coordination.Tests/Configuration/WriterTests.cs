using System.Text;
using Coordination.Configuration;
using Coordination.Testing;
using Coordination.ZooKeeper;
using static Coordination.Tests.Configuration.ConfigTestEnvironment;

namespace Coordination.Tests.Configuration;

public sealed class WriterTests
{
    [Fact]
    public async Task ConcurrentWritersWithTheSameExpectedVersion_ExactlyOneWins()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        await using var zk = await AdminAsync();
        await PutAsync(zk, root + "/Payments/Retries", "3");
        using var a = Build(Options(root, prefix));
        using var b = Build(Options(root, prefix));
        var entry = await Provider(a).Writer.GetAsync("Payments:Retries");
        Assert.NotNull(entry);
        Assert.Equal("3", entry.Value);

        var results = await Task.WhenAll(
            Attempt(Provider(a).Writer, "from-a", entry.Version),
            Attempt(Provider(b).Writer, "from-b", entry.Version));

        Assert.Single(results, r => r is null);
        var conflict = Assert.Single(results, r => r is not null);
        Assert.IsType<ConfigurationConflictException>(conflict);
        var winner = results[0] is null ? "from-a" : "from-b";
        Assert.Equal(winner, Encoding.UTF8.GetString((await zk.GetDataAsync(root + "/Payments/Retries")).Data));
        await Poll.UntilAsync(() => a["Payments:Retries"] == winner && b["Payments:Retries"] == winner, "both instances to show the winner");

        static async Task<Exception?> Attempt(IZooKeeperConfigurationWriter writer, string value, int version)
        {
            try
            {
                await writer.SetAsync("Payments:Retries", value, version);
                return null;
            }
            catch (ConfigurationConflictException ex)
            {
                return ex;
            }
        }
    }

    [Fact]
    public async Task ExpectAbsent_ConflictsWhenTheKeyExists_AndDeleteWithWrongVersionConflicts()
    {
        var root = NewRoot();
        using var config = Build(Options(root, NewPrefix(), more: o => o.Optional = true));
        var writer = Provider(config).Writer;

        Assert.Equal(0, await writer.SetAsync("Feature:On", "true", expectedVersion: -1));
        await Assert.ThrowsAsync<ConfigurationConflictException>(() => writer.SetAsync("Feature:On", "false", expectedVersion: -1));
        await Assert.ThrowsAsync<ConfigurationConflictException>(() => writer.DeleteAsync("Feature:On", expectedVersion: 5));
        Assert.True(await writer.DeleteAsync("Feature:On", expectedVersion: 0));
        Assert.False(await writer.DeleteAsync("Feature:On"));
        Assert.Null(config["Feature:On"]);
    }

    [Fact]
    public async Task WriterWithoutTheDigestIdentity_IsDenied()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        using var admin = Build(Options(root, prefix, more: o => { o.WriterCredentials = "admin:s3cret"; o.Optional = true; }));
        using var intruder = Build(Options(root, prefix, more: o => o.Optional = true));
        using var wrongPassword = Build(Options(root, prefix, more: o => { o.WriterCredentials = "admin:guess"; o.Optional = true; }));
        await Provider(admin).Writer.SetAsync("Payments:Retries", "3");
        await Poll.UntilAsync(() => intruder["Payments:Retries"] == "3", "readers can still read");

        var denied = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Provider(intruder).Writer.SetAsync("Payments:Retries", "0"));
        Assert.Contains(root + "/Payments/Retries", denied.Message, StringComparison.Ordinal);
        Assert.IsType<NoAuthException>(denied.InnerException);
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Provider(wrongPassword).Writer.SetAsync("Payments:Retries", "0"));
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Provider(intruder).Writer.SetAsync("Payments:Other", "0"));

        Assert.Equal(1, await Provider(admin).Writer.SetAsync("Payments:Retries", "4"));
        Assert.Equal("4", (await Provider(intruder).Writer.GetAsync("Payments:Retries"))!.Value);
    }

    [Fact]
    public async Task StaleSnapshot_NeverOverwritesANewerRedisCopy()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        using var config = Build(Options(root, prefix, more: o => o.Optional = true));
        var writer = Provider(config).Writer;
        await writer.SetAsync("Payments:Retries", "1");
        var old = Provider(config).Store.Current;
        await writer.SetAsync("Payments:Retries", "2");
        var cache = Provider(config).Store.Cache!;
        var newer = await cache.ReadAsync();
        Assert.NotNull(newer);
        Assert.Equal("2", newer.Data["Payments:Retries"]);
        Assert.True(newer.Version > old.Version);

        Assert.False(await cache.WriteIfNewerAsync(old));
        Assert.False(await cache.WriteIfNewerAsync(old with { Version = newer.Version }));

        var after = await cache.ReadAsync();
        Assert.Equal(newer.Version, after!.Version);
        Assert.Equal("2", after.Data["Payments:Retries"]);
        Assert.True(await cache.WriteIfNewerAsync(old with { Version = newer.Version + 1 }));
    }

    [Fact]
    public async Task Write_UpdatesRedisBeforePublishing()
    {
        var root = NewRoot();
        var prefix = NewPrefix();
        using var config = Build(Options(root, prefix, more: o => o.Optional = true));
        await using var redis = await RedisAdminAsync();
        var cache = Provider(config).Store.Cache!;
        var seenInRedis = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await redis.GetSubscriber().SubscribeAsync(cache.Channel, async (_, _) =>
        {
            var snapshot = await cache.ReadAsync();
            seenInRedis.TrySetResult(snapshot?.Data.GetValueOrDefault("Payments:Retries"));
        });

        await Provider(config).Writer.SetAsync("Payments:Retries", "5");

        Assert.Equal("5", await seenInRedis.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(prefix + "{config:" + root + "}:snapshot", cache.Key.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a::b")]
    public async Task Set_WithAnInvalidKey_ThrowsNamingTheKey(string key)
    {
        using var config = Build(Options(NewRoot(), NewPrefix(), more: o => o.Optional = true));
        var ex = await Assert.ThrowsAnyAsync<ArgumentException>(() => Provider(config).Writer.SetAsync(key, "x"));
        Assert.Contains("key", ex.Message, StringComparison.OrdinalIgnoreCase);
    }
}

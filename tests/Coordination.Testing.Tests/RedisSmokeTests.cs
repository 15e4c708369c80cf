using StackExchange.Redis;

namespace Coordination.Testing.Tests;

public sealed class RedisSmokeTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task SetThenGet_ThroughStackExchangeRedis_ReturnsTheValue()
    {
        var ns = TestNamespace.Create();
        var key = ns.Key("greeting");
        var value = "hello " + ns.Id;

        Assert.True(await fixture.Database.StringSetAsync(key, value, TimeSpan.FromMinutes(1)));

        Assert.Equal(value, (string?)await fixture.Database.StringGetAsync(key));
    }

    [Fact]
    public async Task Server_IsTheOneEngServersStarted()
    {
        var server = fixture.Redis.GetServer(fixture.Servers.Redis);

        var info = await server.InfoAsync("server");

        var tcpPort = info.SelectMany(g => g).Single(kv => kv.Key == "tcp_port").Value;
        Assert.Equal(fixture.Servers.RedisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), tcpPort);
        var persistence = await server.ConfigGetAsync("appendonly");
        Assert.Equal("no", persistence.Single().Value);
    }

    [Fact]
    public async Task KeysOfTwoNamespaces_DoNotCollide()
    {
        var a = TestNamespace.Create();
        var b = TestNamespace.Create();

        await fixture.Database.StringSetAsync(a.Key("k"), "a", TimeSpan.FromMinutes(1));
        await fixture.Database.StringSetAsync(b.Key("k"), "b", TimeSpan.FromMinutes(1));

        Assert.Equal("a", (string?)await fixture.Database.StringGetAsync(a.Key("k")));
        Assert.Equal("b", (string?)await fixture.Database.StringGetAsync(b.Key("k")));
    }
}

using StackExchange.Redis;
using Xunit;

namespace Coordination.Testing;

/// <summary>
/// An xunit fixture holding one <see cref="ConnectionMultiplexer"/> to the test Redis (admin commands allowed),
/// shared by a test class or collection. Each test still takes its own keys from <see cref="TestNamespace.Create"/>.
/// </summary>
public class RedisFixture : IAsyncLifetime
{
    private ConnectionMultiplexer? _redis;

    /// <summary>The endpoints of the running servers.</summary>
    public TestServers Servers => TestServers.Current;

    /// <summary>The shared connection; it reconnects by itself after a Redis restart.</summary>
    public ConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>Database 0.</summary>
    public IDatabase Database => Redis.GetDatabase();

    /// <summary>StackExchange.Redis options for the test Redis: short timeouts, admin allowed, fail on first connect.</summary>
    public static ConfigurationOptions CreateRedisOptions(TestServers servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var options = ConfigurationOptions.Parse(servers.Redis);
        options.AllowAdmin = true;
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        options.SyncTimeout = 5000;
        options.AsyncTimeout = 5000;
        options.ConnectRetry = 2;
        options.ClientName = "coordination-tests";
        return options;
    }

    /// <summary>Connects to the test Redis.</summary>
    /// <exception cref="InvalidOperationException">Redis is not reachable; the message says how to start it.</exception>
    public static async Task<ConnectionMultiplexer> ConnectAsync(TestServers servers, Action<ConfigurationOptions>? configure = null)
    {
        var options = CreateRedisOptions(servers);
        configure?.Invoke(options);
        try
        {
            return await ConnectionMultiplexer.ConnectAsync(options);
        }
        catch (RedisConnectionException ex)
        {
            throw new InvalidOperationException($"Cannot reach the test Redis at {servers.Redis} (endpoints from {servers.Source}); run eng/servers.sh start. {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public virtual async Task InitializeAsync() => _redis = await ConnectAsync(Servers);

    /// <inheritdoc />
    public virtual async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
            _redis = null;
        }
    }
}

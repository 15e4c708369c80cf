using Xunit;

namespace Coordination.Testing;

/// <summary>
/// An xunit fixture for tests on the Redis Cluster: <see cref="Cluster"/>, checked healthy on start (an aborted run
/// may have left a failover unfinished) and again at the end.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    private RedisClusterGroup? _cluster;

    /// <summary>The cluster's tools.</summary>
    public RedisClusterGroup Cluster => _cluster ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var cluster = new RedisClusterGroup(TestServers.Current);
        await cluster.WaitHealthyAsync();
        _cluster = cluster;
    }

    /// <inheritdoc />
    public Task DisposeAsync() => _cluster?.WaitHealthyAsync() ?? Task.CompletedTask;
}

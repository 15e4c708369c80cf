using Xunit;

namespace Coordination.Testing;

/// <summary>
/// An xunit fixture for tests on the Redis Sentinel group: <see cref="Group"/>, made healthy on start (an earlier,
/// aborted test may have left a node stopped or a failover unfinished) and checked healthy again at the end.
/// </summary>
public sealed class SentinelFixture : IAsyncLifetime
{
    private SentinelGroup? _group;

    /// <summary>The group's tools.</summary>
    public SentinelGroup Group => _group ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var group = new SentinelGroup(TestServers.Current);
        await group.EnsureHealthyAsync();
        _group = group;
    }

    /// <inheritdoc />
    public Task DisposeAsync() => _group?.EnsureHealthyAsync() ?? Task.CompletedTask;
}

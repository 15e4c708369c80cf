namespace Coordination.Testing;

/// <summary>
/// An xunit fixture for tests that use all the servers: the Redis connection of <see cref="RedisFixture"/>, the
/// ZooKeeper endpoints, and <see cref="Faults"/>. On start it makes sure every server runs (restarting what an
/// earlier, aborted fault test may have left stopped) and the ensemble has a leader and two followers.
/// </summary>
public class ServersFixture : RedisFixture
{
    private ServerFaults? _faults;

    /// <summary>Fault tools acting on the servers; tests using them belong to <see cref="ServerFaultsCollection"/>.</summary>
    public ServerFaults Faults => _faults ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>The standalone ZooKeeper rooted at <paramref name="ns"/>'s chroot.</summary>
    public string ZooKeeper(TestNamespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        return ns.ZooKeeper(Servers);
    }

    /// <summary>The ensemble rooted at <paramref name="ns"/>'s chroot.</summary>
    public string ZooKeeperEnsemble(TestNamespace ns)
    {
        ArgumentNullException.ThrowIfNull(ns);
        return ns.ZooKeeperEnsemble(Servers);
    }

    /// <inheritdoc />
    public override async Task InitializeAsync()
    {
        var servers = Servers;
        await new ServerFaults(servers).EnsureAllRunningAsync();
        await base.InitializeAsync();
        _faults = new ServerFaults(servers, Redis);
    }
}

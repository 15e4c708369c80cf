namespace Coordination.Testing;

/// <summary>
/// A name space one test owns alone: a Redis key prefix (<c>t-&lt;id&gt;-</c>) and a ZooKeeper chroot
/// (<c>/t-&lt;id&gt;</c>), so tests sharing the servers never see each other's data. The chroot node is not created.
/// </summary>
public sealed class TestNamespace
{
    private TestNamespace(string id)
    {
        Id = id;
        KeyPrefix = $"t-{id}-";
        Chroot = $"/t-{id}";
    }

    /// <summary>12 random hex digits.</summary>
    public string Id { get; }

    /// <summary>The Redis key prefix, e.g. <c>t-3f2a9c01b7de-</c>.</summary>
    public string KeyPrefix { get; }

    /// <summary>The ZooKeeper chroot, e.g. <c>/t-3f2a9c01b7de</c>.</summary>
    public string Chroot { get; }

    /// <summary>Creates a fresh namespace.</summary>
    public static TestNamespace Create() => new(NewId());

    /// <summary>12 random hex digits: a name no other test (or earlier run) uses.</summary>
    public static string NewId() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>The Redis key <paramref name="name"/> inside this namespace.</summary>
    public string Key(string name) => KeyPrefix + name;

    /// <summary>The standalone ZooKeeper's connection string rooted at <see cref="Chroot"/>.</summary>
    public string ZooKeeper(TestServers servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        return servers.ZooKeeperWithChroot(Chroot);
    }

    /// <summary>The ensemble's connection string rooted at <see cref="Chroot"/>.</summary>
    public string ZooKeeperEnsemble(TestServers servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        return servers.ZooKeeperEnsembleWithChroot(Chroot);
    }

    /// <inheritdoc />
    public override string ToString() => Id;
}

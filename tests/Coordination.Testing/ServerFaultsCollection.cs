namespace Coordination.Testing;

/// <summary>
/// The name of the xunit collection for tests that stop, pause or flush the shared servers: they must not run
/// alongside other tests. xunit only finds collection definitions in the test assembly itself, so each test
/// project that has such tests declares, once:
/// <code>
/// [CollectionDefinition(ServerFaultsCollection.Name, DisableParallelization = true)]
/// public sealed class ServerFaultsCollectionDefinition : ICollectionFixture&lt;ServersFixture&gt;;
/// </code>
/// and marks the test classes <c>[Collection(ServerFaultsCollection.Name)]</c>.
/// </summary>
public static class ServerFaultsCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "Server faults";
}

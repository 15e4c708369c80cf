using Coordination.Testing;

namespace Coordination.Tests;

[CollectionDefinition(ServerFaultsCollection.Name, DisableParallelization = true)]
public sealed class ServerFaultsCollectionDefinition : ICollectionFixture<ServersFixture>;

namespace Coordination.Testing.Tests;

[CollectionDefinition(ServerFaultsCollection.Name, DisableParallelization = true)]
public sealed class ServerFaultsCollectionDefinition : ICollectionFixture<ServersFixture>;

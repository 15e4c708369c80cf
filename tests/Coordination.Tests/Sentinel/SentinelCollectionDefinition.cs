using Coordination.Testing;

namespace Coordination.Tests.Sentinel;

[CollectionDefinition(SentinelCollection.Name, DisableParallelization = true)]
public sealed class SentinelCollectionDefinition : ICollectionFixture<SentinelFixture>;

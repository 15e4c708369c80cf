using Coordination.Testing;

namespace Coordination.Tests.Cluster;

[CollectionDefinition(RedisClusterCollection.Name, DisableParallelization = true)]
public sealed class RedisClusterCollectionDefinition : ICollectionFixture<RedisClusterFixture>;

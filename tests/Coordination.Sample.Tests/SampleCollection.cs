namespace Coordination.Sample.Tests;

/// <summary>All sample tests share one pair of instances.</summary>
[CollectionDefinition(Name)]
public sealed class SampleCollection : ICollectionFixture<SampleCluster>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "sample";
}

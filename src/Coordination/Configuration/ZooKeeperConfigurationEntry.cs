namespace Coordination.Configuration;

/// <summary>A value as stored in ZooKeeper, with the node's data version for optimistic concurrency.</summary>
/// <param name="Key">The configuration key, e.g. <c>Payments:Retries</c>.</param>
/// <param name="Value">The node's data as UTF-8 text (a JSON document stays unflattened here).</param>
/// <param name="Version">The node's data version; pass it as the expected version of the next write.</param>
public sealed record ZooKeeperConfigurationEntry(string Key, string Value, int Version);

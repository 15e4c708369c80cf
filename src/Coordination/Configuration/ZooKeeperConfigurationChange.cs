namespace Coordination.Configuration;

/// <summary>One batch of configuration changes, passed to <c>OnConfigurationChanged</c> callbacks.</summary>
/// <param name="Root">The znode of the source that changed, e.g. <c>/config/orders</c>.</param>
/// <param name="ChangedKeys">The configuration keys added, updated or removed in the batch (only those under the subscribed path), sorted.</param>
public sealed record ZooKeeperConfigurationChange(string Root, IReadOnlyList<string> ChangedKeys);

namespace Coordination.Configuration;

/// <summary>One <c>AddZooKeeperConfiguration(path)</c> call, resolved into a provider when the host starts.</summary>
internal sealed record ZooKeeperConfigurationRegistration(string Path, Action<ZooKeeperConfigurationOptions>? Configure);

using Coordination.Configuration;

namespace WebApp.Services;

/// <summary>
/// At start-up: seeds a few defaults under the sample's ZooKeeper configuration node (only keys that do not exist yet)
/// and subscribes the change log to every change.
/// </summary>
public sealed partial class ConfigSetup(
    ZooKeeperConfigurationProvider provider,
    IZooKeeperConfigurationWriter writer,
    ConfigChangeLog changes,
    ILogger<ConfigSetup> logger) : IHostedService, IDisposable
{
    /// <summary>Keys written when missing, so a fresh ZooKeeper shows something in /api/config.</summary>
    public static readonly IReadOnlyDictionary<string, string> Defaults = new Dictionary<string, string>
    {
        ["Greeting"] = "Hello from Coordination",
        ["Orders:DefaultHoldMs"] = "2000",
    };

    private IDisposable? _subscription;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = provider.OnConfigurationChanged(string.Empty, c => changes.Add(c.ChangedKeys));
        foreach (var (key, value) in Defaults)
        {
            try
            {
                await writer.SetAsync(key, value, expectedVersion: -1, cancellationToken).ConfigureAwait(false);
                Seeded(logger, key, writer.Path);
            }
            catch (ConfigurationConflictException)
            {
                // Already there (another instance or an operator wrote it): keep it.
            }
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public void Dispose() => _subscription?.Dispose();

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Seeded configuration key {Key} under {Path}")]
    private static partial void Seeded(ILogger logger, string key, string path);
}

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Coordination.Configuration;

/// <summary>
/// An <see cref="IConfigurationProvider"/> over a ZooKeeper subtree, cached in Redis: its reload token fires once per batch
/// of changes (so <c>IOptionsMonitor&lt;T&gt;.OnChange</c> works), and <see cref="OnConfigurationChanged"/> tells which keys changed.
/// </summary>
/// <remarks>See <see cref="ZooKeeperConfigurationSource"/> for the node-to-key mapping.</remarks>
public sealed class ZooKeeperConfigurationProvider : ConfigurationProvider, IDisposable
{
    private readonly ConfigurationStore _store;
    private readonly ILogger _logger;
    private readonly object _callbacksGate = new();
    private readonly ZooKeeperConfigurationWriter _writer;
    private List<Subscription> _callbacks = [];

    internal ZooKeeperConfigurationProvider(ConfigurationStore store, ILogger logger)
    {
        _store = store;
        _logger = logger;
        _writer = new ZooKeeperConfigurationWriter(store);
        store.Changed += OnStoreChanged;
    }

    /// <summary>The root znode, e.g. <c>/config/orders</c>.</summary>
    public string Path => _store.Root;

    /// <summary>Where the values come from now: ZooKeeper (Live), the Redis copy (Cached) or nowhere yet (Empty).</summary>
    public ZooKeeperConfigurationState State => _store.State;

    /// <summary>The ZooKeeper version (largest zxid) the current values reflect; 0 when nothing was loaded.</summary>
    public long Version => _store.Current.Version;

    /// <summary>Nodes whose data is malformed (path → reason); their last good values are still served.</summary>
    public IReadOnlyDictionary<string, string> MalformedNodes => _store.MalformedNodes;

    /// <summary>Why the source is not Live, when it is not (for health reports).</summary>
    public string? LastProblem => _store.LastProblem;

    /// <summary>Writes keys of this source (ZooKeeper first, then Redis, then a change message to every instance).</summary>
    public IZooKeeperConfigurationWriter Writer => _writer;

    internal ConfigurationStore Store => _store;

    /// <summary>
    /// Loads the configuration: the first call reads Redis and then ZooKeeper (blocking, as configuration loading is
    /// synchronous) and throws when a required source cannot be read; later calls return the current values.
    /// </summary>
    public override void Load()
    {
        if (!_store.IsStarted)
        {
            // Configuration providers load synchronously; run the async start on the thread pool so no context is captured.
            Task.Run(() => _store.StartAsync(CancellationToken.None)).GetAwaiter().GetResult();
        }

        Data = new Dictionary<string, string?>(_store.Current.Data, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Calls <paramref name="callback"/> after each batch of changes that touches <paramref name="path"/> (a configuration
    /// key such as <c>Payments</c>, matching it and every key below it; empty for every key), with the changed keys.
    /// Dispose the result to stop.
    /// </summary>
    public IDisposable OnConfigurationChanged(string path, Action<ZooKeeperConfigurationChange> callback)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(callback);
        if (path.StartsWith(':') || path.EndsWith(':'))
        {
            throw new ArgumentException($"The configuration path '{path}' must not start or end with ':'; use e.g. 'Payments' or 'Payments:Retries'.", nameof(path));
        }

        var subscription = new Subscription(this, path, callback);
        lock (_callbacksGate)
        {
            _callbacks = [.. _callbacks, subscription];
        }

        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_callbacksGate)
        {
            _callbacks = [.. _callbacks.Where(s => s != subscription)];
        }
    }

    private void OnStoreChanged(IReadOnlyList<string> changedKeys)
    {
        Data = new Dictionary<string, string?>(_store.Current.Data, StringComparer.OrdinalIgnoreCase);
        OnReload();
        foreach (var s in _callbacks)
        {
            var matching = s.Path.Length == 0
                ? changedKeys
                : changedKeys.Where(k => k.Equals(s.Path, StringComparison.OrdinalIgnoreCase) || k.StartsWith(s.Path + ":", StringComparison.OrdinalIgnoreCase)).ToList();
            if (matching.Count == 0)
            {
                continue;
            }

            try
            {
                s.Callback(new ZooKeeperConfigurationChange(Path, matching));
            }
#pragma warning disable CA1031 // a subscriber's exception must not stop the others or the reload pump
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ConfigurationLog.CallbackFailed(_logger, Path, ex);
            }
        }
    }

    /// <summary>Stops watching and closes the source's own connections (if it owns them).</summary>
    public void Dispose()
    {
        _store.Changed -= OnStoreChanged;
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc />
    public override string ToString() => $"{nameof(ZooKeeperConfigurationProvider)} for '{Path}' ({State})";

    private sealed class Subscription(ZooKeeperConfigurationProvider owner, string path, Action<ZooKeeperConfigurationChange> callback) : IDisposable
    {
        public string Path { get; } = path;

        public Action<ZooKeeperConfigurationChange> Callback { get; } = callback;

        public void Dispose() => owner.Remove(this);
    }
}

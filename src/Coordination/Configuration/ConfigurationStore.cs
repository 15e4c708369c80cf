using System.Threading.Channels;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination.Configuration;

/// <summary>
/// Keeps one source's configuration in step with its ZooKeeper subtree.
/// </summary>
/// <remarks>
/// Start: the Redis copy is read first (the ZooKeeper session connects meanwhile), then the whole tree is read from
/// ZooKeeper after a persistent recursive watch is set on the root (so no change between the two is lost). ZooKeeper
/// unreachable: serve the Redis copy (Cached, degraded); both unreachable: Optional → Empty, else start-up fails.
/// Changes: watch events queue their paths; a single pump waits <see cref="ZooKeeperConfigurationOptions.ReloadDelay"/>
/// to collect the burst, re-reads just those nodes, and raises <see cref="Changed"/> once with the changed keys.
/// Every (re)connection and every new session triggers a full re-read (catch-up), then the Redis copy is updated
/// if its version is older. Redis change messages refresh from ZooKeeper, or from the Redis copy while ZooKeeper is down.
/// </remarks>
internal sealed class ConfigurationStore : IAsyncDisposable
{
    private readonly ZooKeeperConfigurationOptions _options;
    private readonly CoordinationConnections _connections;
    private readonly bool _ownsConnections;
    private readonly ILogger _logger;
    private readonly ConfigurationTree _tree;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly object _pendingGate = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private HashSet<string> _pending = new(StringComparer.Ordinal);
    private bool _pendingFull;
    private Task? _pump;
    private ZooKeeperClient? _watched;
    private volatile ConfigurationSnapshot _current = ConfigurationSnapshot.Empty;
    private volatile ZooKeeperConfigurationState _state = ZooKeeperConfigurationState.Empty;
    private volatile IReadOnlyDictionary<string, string> _errors = new Dictionary<string, string>();
    private volatile string? _lastProblem;
    private int _started;
    private int _disposed;

    public ConfigurationStore(ZooKeeperConfigurationOptions options, CoordinationConnections connections, bool ownsConnections, ILogger logger)
    {
        _options = options;
        _connections = connections;
        _ownsConnections = ownsConnections;
        _logger = logger;
        _tree = new ConfigurationTree(options.Path, options.MaxValueBytes);
        Cache = connections.HasRedis ? new RedisConfigurationCache(connections, connections.Options.RedisPrefix, options.Path) : null;
    }

    /// <summary>Raised on the pump after a batch changed the configuration, with the changed keys (sorted).</summary>
    public event Action<IReadOnlyList<string>>? Changed;

    public string Root => _options.Path;

    public ZooKeeperConfigurationOptions Options => _options;

    public CoordinationConnections Connections => _connections;

    public RedisConfigurationCache? Cache { get; }

    public ConfigurationSnapshot Current => _current;

    public ZooKeeperConfigurationState State => _state;

    public bool IsStarted => Volatile.Read(ref _started) == 1;

    /// <summary>Malformed nodes (path → reason) whose last good values are being served.</summary>
    public IReadOnlyDictionary<string, string> MalformedNodes => _errors;

    /// <summary>Why the source is not live, when it is not.</summary>
    public string? LastProblem => _lastProblem;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            return;
        }

        _connections.ZooKeeperStateChanged += OnZooKeeperStateChanged;
        _connections.ZooKeeperSessionReplaced += OnSessionReplaced;
        // Connect in the background while Redis is read.
        var zkTask = _connections.GetConnectedZooKeeperAsync(_options.StartupTimeout, cancellationToken);
        ConfigurationSnapshot? cached = null;
        Exception? redisError = null;
        if (Cache is not null)
        {
            try
            {
                cached = await Cache.ReadAsync().ConfigureAwait(false);
                if (cached is not null)
                {
                    _current = cached;
                    _state = ZooKeeperConfigurationState.Cached;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                redisError = ex;
                ConfigurationLog.CacheFailed(_logger, Root, ex);
            }
        }

        try
        {
            await zkTask.ConfigureAwait(false);
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await FullReloadLockedAsync(notify: false).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (Exception ex) when (ex is ZooKeeperException or TimeoutException)
        {
            _lastProblem = $"ZooKeeper unreachable: {ex.Message}";
            if (cached is not null)
            {
                ConfigurationLog.ServingCache(_logger, Root, cached.Version, ex);
            }
            else if (_options.Optional)
            {
                _state = ZooKeeperConfigurationState.Empty;
                ConfigurationLog.StartingEmpty(_logger, Root, ex);
            }
            else
            {
                var redisPart = Cache is null
                    ? "no Redis cache is configured"
                    : redisError is not null
                        ? $"the Redis copy could not be read ({redisError.Message})"
                        : $"Redis has no copy under '{Cache.Key}'";
                var message = $"ZooKeeper configuration '{Root}' could not be loaded: ZooKeeper ({_connections.Options.ZooKeeper}) did not answer within {_options.StartupTimeout} ({ex.Message}) and {redisPart}. Start ZooKeeper (or Redis with a cached copy), or mark the source Optional to start empty.";
                await DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException(message, ex);
            }
        }

        _pump = Task.Run(PumpAsync);
        if (Cache is not null)
        {
            await SubscribeAsync().ConfigureAwait(false);
        }
    }

    private async Task SubscribeAsync()
    {
        try
        {
            await Cache!.SubscribeAsync(OnRedisMessage).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            ConfigurationLog.CacheFailed(_logger, Root, ex);
            if (_connections.RedisIfCreated is { } redis)
            {
                // Redis was down at start: subscribe once it is reachable (the multiplexer keeps it after that).
                redis.ConnectionRestored += OnRedisRestored;
            }
        }
    }

    private void OnRedisRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (sender is IConnectionMultiplexer redis)
        {
            redis.ConnectionRestored -= OnRedisRestored;
        }

        if (Volatile.Read(ref _disposed) == 0)
        {
            _ = SubscribeAsync();
        }
    }

    /// <summary>Re-reads <paramref name="paths"/> now (after a write) and updates the Redis copy; returns the new version.</summary>
    public async Task<long> ApplyWriteAsync(IReadOnlyCollection<string> paths, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var zk = _connections.GetZooKeeper();
            if (!ReferenceEquals(zk, _watched) || _state != ZooKeeperConfigurationState.Live)
            {
                await FullReloadLockedAsync(notify: true).ConfigureAwait(false);
            }
            else
            {
                await IncrementalLockedAsync(zk, paths).ConfigureAwait(false);
            }

            return _current.Version;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void OnWatch(WatchedEvent e)
    {
        if (e.Type == WatchEventType.None || e.Path is null)
        {
            return;
        }

        lock (_pendingGate)
        {
            if (e.Path == Root && e.Type != WatchEventType.NodeDataChanged)
            {
                // The root appeared or went away: re-read everything (and the parent's pzxid, part of the version).
                _pendingFull = true;
            }
            else
            {
                _pending.Add(e.Path);
            }
        }

        _signal.Writer.TryWrite(true);
    }

    private void OnZooKeeperStateChanged(object? sender, ZooKeeperStateChangedEventArgs e)
    {
        if (e.Current == ZooKeeperState.Connected)
        {
            RequestFull(); // catch up on anything missed while disconnected
        }
        else if (e.Current is ZooKeeperState.Suspended or ZooKeeperState.Expired && _state == ZooKeeperConfigurationState.Live)
        {
            // The values are no longer known to be fresh: report degraded until a full reload after reconnecting.
            _lastProblem = $"ZooKeeper connection {e.Current}";
            _state = ZooKeeperConfigurationState.Cached;
        }
    }

    private void OnSessionReplaced(object? sender, ZooKeeperClient replacement) => RequestFull();

    private void OnRedisMessage(long version)
    {
        if (version > _current.Version)
        {
            RequestFull();
        }
    }

    private void RequestFull()
    {
        lock (_pendingGate)
        {
            _pendingFull = true;
        }

        _signal.Writer.TryWrite(true);
    }

    private async Task PumpAsync()
    {
        var ct = _stop.Token;
        try
        {
            while (await _signal.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                _signal.Reader.TryRead(out _);
                if (_options.ReloadDelay > TimeSpan.Zero)
                {
                    await Task.Delay(_options.ReloadDelay, ct).ConfigureAwait(false);
                }

                _signal.Reader.TryRead(out _);
                HashSet<string> paths;
                bool full;
                lock (_pendingGate)
                {
                    paths = _pending;
                    full = _pendingFull;
                    _pending = new HashSet<string>(StringComparer.Ordinal);
                    _pendingFull = false;
                }

                if (!full && paths.Count == 0)
                {
                    continue;
                }

                if (_connections.ZooKeeperIfCreated?.State != ZooKeeperState.Connected)
                {
                    // Nothing to read from ZooKeeper now: take what Redis has; the Connected state change brings a full reload.
                    lock (_pendingGate)
                    {
                        _pendingFull = true;
                    }

                    if (Cache is not null)
                    {
                        await _gate.WaitAsync(ct).ConfigureAwait(false);
                        try
                        {
                            await RefreshFromCacheAsync().ConfigureAwait(false);
                        }
                        finally
                        {
                            _gate.Release();
                        }
                    }

                    continue;
                }

                await _gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    var zk = _connections.GetZooKeeper();
                    if (full || !ReferenceEquals(zk, _watched))
                    {
                        await FullReloadLockedAsync(notify: true).ConfigureAwait(false);
                    }
                    else
                    {
                        await IncrementalLockedAsync(zk, paths).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is ZooKeeperException or TimeoutException or ObjectDisposedException or InvalidOperationException && !ct.IsCancellationRequested)
                {
                    await OnReloadFailedAsync(ex, ct).ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task OnReloadFailedAsync(Exception ex, CancellationToken ct)
    {
        ConfigurationLog.ReloadFailed(_logger, Root, ex);
        _lastProblem = $"ZooKeeper unreachable: {ex.Message}";
        if (_state == ZooKeeperConfigurationState.Live)
        {
            _state = ZooKeeperConfigurationState.Cached;
        }

        lock (_pendingGate)
        {
            _pendingFull = true;
        }

        // A connected client that failed anyway (e.g. an operation timeout) gets a retry; otherwise the next
        // Connected state change triggers it.
        if (_connections.ZooKeeperIfCreated?.State == ZooKeeperState.Connected)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            _signal.Writer.TryWrite(true);
        }
    }

    private async Task RefreshFromCacheAsync()
    {
        try
        {
            var cached = await Cache!.ReadAsync().ConfigureAwait(false);
            if (cached is not null && cached.Version > _current.Version && _state != ZooKeeperConfigurationState.Live)
            {
                _state = ZooKeeperConfigurationState.Cached;
                Publish(cached, notify: true);
                ConfigurationLog.RefreshedFromCache(_logger, Root, cached.Version);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or System.Text.Json.JsonException or KeyNotFoundException)
        {
            ConfigurationLog.CacheFailed(_logger, Root, ex);
        }
    }

    private async Task FullReloadLockedAsync(bool notify)
    {
        var zk = _connections.GetZooKeeper();
        if (!ReferenceEquals(zk, _watched))
        {
            // Watch first, read second: a change between the two shows up as an event and is re-read.
            await zk.AddWatchAsync(Root, OnWatch, AddWatchMode.PersistentRecursive).ConfigureAwait(false);
            _watched = zk;
        }

        var anchor = await zk.ExistsAsync(ZooKeeperPath.GetParent(Root)).ConfigureAwait(false);
        var nodes = new List<(string, byte[], ZooKeeperStat)>();
        List<string> frontier = [Root];
        while (frontier.Count > 0)
        {
            var reads = frontier.Select(p => ReadNodeAsync(zk, p)).ToList();
            await Task.WhenAll(reads).ConfigureAwait(false);
            var next = new List<string>();
            foreach (var r in reads)
            {
                if (r.Result is { } node)
                {
                    nodes.Add((node.Path, node.Data, node.Stat));
                    next.AddRange(node.Children.Select(c => ZooKeeperPath.Combine(node.Path, c)));
                }
            }

            frontier = next;
        }

        foreach (var (path, error) in _tree.ReplaceAll(nodes, anchor?.Pzxid ?? 0))
        {
            ConfigurationLog.Malformed(_logger, path, error);
        }

        var wasLive = _state == ZooKeeperConfigurationState.Live;
        _state = ZooKeeperConfigurationState.Live;
        _lastProblem = null;
        var snapshot = Commit(notify);
        if (!wasLive)
        {
            ConfigurationLog.Loaded(_logger, Root, snapshot.Data.Count, snapshot.Version);
        }

        await WriteCacheAsync(snapshot).ConfigureAwait(false);
    }

    private static async Task<(string Path, byte[] Data, ZooKeeperStat Stat, IReadOnlyList<string> Children)?> ReadNodeAsync(ZooKeeperClient zk, string path)
    {
        var data = zk.GetDataAsync(path);
        var children = zk.GetChildrenAsync(path);
        try
        {
            var d = await data.ConfigureAwait(false);
            var c = await children.ConfigureAwait(false);
            // Data and mzxid from the data read, children and pzxid from the children read: each pair is consistent.
            return (path, d.Data, d.Stat with { Pzxid = Math.Max(d.Stat.Pzxid, c.Stat.Pzxid) }, c.Children);
        }
        catch (NoNodeException)
        {
            // Deleted between listing and reading; observe the other task so it does not go unobserved.
            try
            {
                await children.ConfigureAwait(false);
            }
            catch (NoNodeException)
            {
            }

            return null;
        }
    }

    private async Task IncrementalLockedAsync(ZooKeeperClient zk, IReadOnlyCollection<string> paths)
    {
        var reads = paths.Where(_tree.IsWithin).Select(async p =>
        {
            try
            {
                return (Path: p, Result: (ZooKeeperDataResult?)await zk.GetDataAsync(p).ConfigureAwait(false));
            }
            catch (NoNodeException)
            {
                return (Path: p, Result: (ZooKeeperDataResult?)null);
            }
        }).ToList();
        await Task.WhenAll(reads).ConfigureAwait(false);
        var parents = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in reads.Select(t => t.Result))
        {
            if (r.Result is null)
            {
                _tree.Remove(r.Path);
                parents.Add(ZooKeeperPath.GetParent(r.Path));
            }
            else if (_tree.Set(r.Path, r.Result.Data, r.Result.Stat) is { } error)
            {
                ConfigurationLog.Malformed(_logger, r.Path, error);
            }
        }

        // A deletion moves the parent's pzxid: re-read it so the version grows.
        foreach (var parent in parents.Where(_tree.Contains))
        {
            if (await zk.ExistsAsync(parent).ConfigureAwait(false) is { } stat)
            {
                _tree.UpdateStat(parent, stat);
            }
        }

        var snapshot = Commit(notify: true);
        await WriteCacheAsync(snapshot).ConfigureAwait(false);
    }

    private ConfigurationSnapshot Commit(bool notify)
    {
        _errors = _tree.Errors();
        var snapshot = new ConfigurationSnapshot(_tree.Flatten(), _tree.Version);
        Publish(snapshot, notify);
        return snapshot;
    }

    private void Publish(ConfigurationSnapshot snapshot, bool notify)
    {
        var before = _current;
        _current = snapshot;
        var changed = ConfigurationSnapshot.Diff(before.Data, snapshot.Data);
        if (notify && changed.Count > 0)
        {
            ConfigurationLog.Changed(_logger, Root, changed.Count, snapshot.Version);
            Changed?.Invoke(changed);
        }
    }

    private async Task WriteCacheAsync(ConfigurationSnapshot snapshot)
    {
        if (Cache is null || snapshot.Version == 0)
        {
            return;
        }

        try
        {
            await Cache.WriteIfNewerAsync(snapshot).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            ConfigurationLog.CacheFailed(_logger, Root, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _connections.ZooKeeperStateChanged -= OnZooKeeperStateChanged;
        _connections.ZooKeeperSessionReplaced -= OnSessionReplaced;
        await _stop.CancelAsync().ConfigureAwait(false);
        _signal.Writer.TryComplete();
        if (_pump is not null)
        {
            await _pump.ConfigureAwait(false);
        }

        if (Cache is not null && !_ownsConnections)
        {
            try
            {
                await Cache.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
            }
        }

        if (!_ownsConnections && _watched is { State: ZooKeeperState.Connected } zk)
        {
            try
            {
                await zk.RemoveWatchesAsync(Root, OnWatch, WatcherType.PersistentRecursive).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ZooKeeperException or TimeoutException or ObjectDisposedException)
            {
            }
        }

        if (_ownsConnections)
        {
            await _connections.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}

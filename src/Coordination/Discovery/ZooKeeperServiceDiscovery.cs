using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using StackExchange.Redis;

namespace Coordination.Discovery;

/// <summary>
/// The lookup side of discovery: one watched cache per service looked up.
/// </summary>
/// <remarks>
/// Per service, one worker owns the cache. ZooKeeper watches (one-shot, on the service node's children and on each
/// instance node's data) only signal the worker; the worker re-reads the children, reads the data of new or changed
/// instance nodes (setting fresh watches), and publishes a snapshot: <see cref="InstancesChanged"/>, a change token
/// for the endpoint provider, and a copy in Redis guarded by the zxid so an older view never overwrites a newer one.
/// A replaced session (expiry) loses every watch, so the worker starts over on the new client. Failures keep the
/// last snapshot and retry with backoff. A cold lookup waits <see cref="CoordinationServiceDiscoveryOptions.ColdLookupTimeout"/>
/// for ZooKeeper and then answers from the Redis copy.
/// </remarks>
internal sealed class ZooKeeperServiceDiscovery : IServiceDiscovery, IAsyncDisposable
{
    private const string CompareAndSetScript = """
        local cur = redis.call('GET', KEYS[1])
        if cur then
          local ok, doc = pcall(cjson.decode, cur)
          if ok and type(doc) == 'table' and tonumber(doc.zxid) and tonumber(doc.zxid) > tonumber(ARGV[2]) then
            return 0
          end
        end
        redis.call('SET', KEYS[1], ARGV[1])
        return 1
        """;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FallbackLifetime = TimeSpan.FromSeconds(5);

    private readonly CoordinationConnections _connections;
    private readonly CoordinationServiceDiscoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<ServiceWatch>> _watches = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();

    public ZooKeeperServiceDiscovery(CoordinationConnections connections, IOptions<CoordinationServiceDiscoveryOptions> options, TimeProvider? time = null, ILogger<ZooKeeperServiceDiscovery>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connections);
        ArgumentNullException.ThrowIfNull(options);
        _connections = connections;
        _options = options.Value;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _connections.ZooKeeperSessionReplaced += OnSessionReplaced;
    }

    public event EventHandler<ServiceInstancesChangedEventArgs>? InstancesChanged;

    public async ValueTask<IReadOnlyList<ServiceInstance>> GetInstancesAsync(string serviceName, CancellationToken cancellationToken = default)
    {
        var (instances, _) = await GetSnapshotAsync(serviceName, cancellationToken).ConfigureAwait(false);
        return instances;
    }

    /// <summary>The instances and a change token that fires when they change (taken before the read, so no change is missed).</summary>
    internal async ValueTask<(IReadOnlyList<ServiceInstance> Instances, IChangeToken ChangeToken)> GetSnapshotAsync(string serviceName, CancellationToken cancellationToken)
    {
        ServiceNames.Validate(serviceName, "service name", nameof(serviceName));
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var watch = _watches.GetOrAdd(serviceName, n => new Lazy<ServiceWatch>(() => StartWatch(n))).Value;
        var token = watch.ChangeToken;
        if (watch.Current is { } current)
        {
            return (current, token);
        }

        // Cold lookup: wait a little for ZooKeeper unless it is already known to be failing.
        if (watch.LastError is null)
        {
            var first = await WaitAsync(watch.FirstLoad.Task, _options.ColdLookupTimeout, cancellationToken).ConfigureAwait(false);
            if (first is not null)
            {
                return (first, token);
            }
        }

        if (watch.Fallback is { } fb && _time.GetUtcNow() - fb.ReadAt < FallbackLifetime)
        {
            return (fb.Instances, Expiring(token, fb.ReadAt + FallbackLifetime - _time.GetUtcNow()));
        }

        if (await TryReadRedisAsync(serviceName).ConfigureAwait(false) is { } copy)
        {
            watch.Fallback = new FallbackCopy(copy, _time.GetUtcNow());
            return (copy, Expiring(token, FallbackLifetime));
        }

        var rest = _connections.Options.OperationTimeout - _options.ColdLookupTimeout;
        var late = await WaitAsync(watch.FirstLoad.Task, rest > TimeSpan.Zero ? rest : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        if (late is not null)
        {
            return (late, token);
        }

        throw watch.LastError is { } error
            ? new ServiceDiscoveryException($"The instances of service '{serviceName}' are unknown: ZooKeeper failed ({error.Message}) and Redis holds no copy.", error)
            : new ServiceDiscoveryException($"The instances of service '{serviceName}' are unknown: ZooKeeper did not answer within {_connections.Options.OperationTimeout} and Redis holds no copy.");
    }

    private static async Task<IReadOnlyList<ServiceInstance>?> WaitAsync(Task<IReadOnlyList<ServiceInstance>> task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private static IChangeToken Expiring(IChangeToken token, TimeSpan after)
    {
        var cts = new CancellationTokenSource(after > TimeSpan.Zero ? after : TimeSpan.FromMilliseconds(1));
        return new CompositeChangeToken([token, new CancellationChangeToken(cts.Token)]);
    }

    private ServiceWatch StartWatch(string serviceName)
    {
        var watch = new ServiceWatch(serviceName, DiscoveryPaths.Service(_connections.Options, serviceName));
        watch.Worker = Task.Run(() => RunAsync(watch));
        return watch;
    }

    private void OnSessionReplaced(object? sender, ZooKeeperClient e)
    {
        foreach (var w in _watches.Values)
        {
            if (w.IsValueCreated)
            {
                w.Value.Signal();
            }
        }
    }

    private async Task RunAsync(ServiceWatch watch)
    {
        var ct = _disposed.Token;
        var backoff = TimeSpan.FromMilliseconds(100);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await watch.Signals.Reader.ReadAsync(ct).ConfigureAwait(false);
                try
                {
                    await RefreshAsync(watch, ct).ConfigureAwait(false);
                    watch.LastError = null;
                    backoff = TimeSpan.FromMilliseconds(100);
                }
#pragma warning disable CA1031 // whatever failed, the watch must go on (with backoff) or the cache goes stale for good
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    watch.LastError = ex;
                    DiscoveryLog.WatchFailed(_logger, watch.ServiceName, backoff, ex);
                    await Task.Delay(backoff, _time, ct).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                    watch.Signal();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (ChannelClosedException)
        {
        }
    }

    private async Task RefreshAsync(ServiceWatch watch, CancellationToken ct)
    {
        var zk = _connections.GetZooKeeper();
        if (!ReferenceEquals(zk, watch.Client))
        {
            // A new session has none of the old watches: read everything again.
            watch.Client = zk;
            watch.Entries.Clear();
        }

        IReadOnlyList<string> children;
        long pzxid;
        try
        {
            var result = await zk.GetChildrenAsync(watch.Path, watch.ChildWatcher, ct).ConfigureAwait(false);
            children = result.Children;
            pzxid = result.Stat.Pzxid;
        }
        catch (NoNodeException)
        {
            // No instance ever registered: watch for the service node to appear.
            if (await zk.ExistsAsync(watch.Path, watch.ChildWatcher, ct).ConfigureAwait(false) is not null)
            {
                watch.Signal();
                return;
            }

            children = [];
            pzxid = 0;
        }

        var names = children.ToHashSet(StringComparer.Ordinal);
        foreach (var gone in watch.Entries.Keys.Where(k => !names.Contains(k)).ToList())
        {
            watch.Entries.Remove(gone);
        }

        foreach (var name in names)
        {
            var dirty = watch.Dirty.TryRemove(name, out _);
            if (watch.Entries.ContainsKey(name) && !dirty)
            {
                continue;
            }

            var path = watch.Path + "/" + name;
            try
            {
                var data = await zk.GetDataAsync(path, watch.DataWatcher, ct).ConfigureAwait(false);
                var instance = ServiceInstanceDocument.TryParse(data.Data)?.ToInstance(watch.ServiceName, name);
                if (instance is null)
                {
                    DiscoveryLog.MalformedInstance(_logger, path);
                }

                watch.Entries[name] = new Entry(instance, data.Stat.Mzxid, data.Stat.Czxid);
            }
            catch (NoNodeException)
            {
                // Deleted between the two reads; the child watch reports it.
                watch.Entries.Remove(name);
            }
        }

        Publish(watch, pzxid);
    }

    private void Publish(ServiceWatch watch, long pzxid)
    {
        var ordered = watch.Entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
        var signature = string.Join(';', ordered.Select(e => $"{e.Key}:{e.Value.Czxid}:{e.Value.Mzxid}"));
        var zxid = ordered.Aggregate(pzxid, (max, e) => Math.Max(max, e.Value.Mzxid));
        var instances = ordered.Where(e => e.Value.Instance is not null).Select(e => e.Value.Instance!).ToList().AsReadOnly();
        var first = watch.Current is null;
        if (!first && signature == watch.Signature)
        {
            return;
        }

        watch.Signature = signature;
        watch.Current = instances;
        watch.Fallback = null;
        watch.FirstLoad.TrySetResult(instances);
        watch.FireChanged();
        DiscoveryLog.InstancesChanged(_logger, watch.ServiceName, instances.Count);
        if (_options.ShareInRedis && _connections.HasRedis)
        {
            _ = WriteRedisAsync(watch.ServiceName, zxid, instances);
        }

        if (!first && InstancesChanged is { } handler)
        {
            try
            {
                handler(this, new ServiceInstancesChangedEventArgs(watch.ServiceName, instances));
            }
#pragma warning disable CA1031 // a subscriber's bug must not stop the watch
            catch (Exception ex)
#pragma warning restore CA1031
            {
                DiscoveryLog.HandlerFailed(_logger, watch.ServiceName, ex);
            }
        }
    }

    private async Task WriteRedisAsync(string serviceName, long zxid, IReadOnlyList<ServiceInstance> instances)
    {
        try
        {
            var doc = new ServiceListDocument
            {
                Service = serviceName,
                Zxid = zxid,
                UpdatedAt = _time.GetUtcNow(),
                Instances = [.. instances.Select(ServiceInstanceDocument.From)],
            };
            var json = JsonSerializer.Serialize(doc, DiscoveryJsonContext.Default.ServiceListDocument);
            var redis = await _connections.GetRedisAsync().ConfigureAwait(false);
            await redis.GetDatabase().ScriptEvaluateAsync(
                CompareAndSetScript,
                [new RedisKey(DiscoveryPaths.RedisKey(_connections.Options, serviceName))],
                [json, zxid]).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            DiscoveryLog.RedisWriteFailed(_logger, serviceName, ex);
        }
    }

    private async Task<IReadOnlyList<ServiceInstance>?> TryReadRedisAsync(string serviceName)
    {
        if (!_connections.HasRedis)
        {
            return null;
        }

        try
        {
            var redis = await _connections.GetRedisAsync().ConfigureAwait(false);
            var value = await redis.GetDatabase().StringGetAsync(DiscoveryPaths.RedisKey(_connections.Options, serviceName)).ConfigureAwait(false);
            if (value.IsNullOrEmpty)
            {
                return null;
            }

            var doc = JsonSerializer.Deserialize((byte[])value!, DiscoveryJsonContext.Default.ServiceListDocument);
            if (doc is null)
            {
                return null;
            }

            DiscoveryLog.AnsweredFromRedis(_logger, serviceName, doc.Zxid);
            return doc.Instances
                .Select(d => d.ToInstance(serviceName, d.InstanceId))
                .OfType<ServiceInstance>()
                .OrderBy(i => i.InstanceId, StringComparer.Ordinal)
                .ToList()
                .AsReadOnly();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or JsonException)
        {
            DiscoveryLog.RedisReadFailed(_logger, serviceName, ex);
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _connections.ZooKeeperSessionReplaced -= OnSessionReplaced;
        await _disposed.CancelAsync().ConfigureAwait(false);
        foreach (var w in _watches.Values)
        {
            if (w.IsValueCreated && w.Value.Worker is { } worker)
            {
                await worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        _disposed.Dispose();
    }

    private sealed record FallbackCopy(IReadOnlyList<ServiceInstance> Instances, DateTimeOffset ReadAt);

    private sealed record Entry(ServiceInstance? Instance, long Mzxid, long Czxid);

    /// <summary>The cache of one service; only its worker touches <see cref="Entries"/>.</summary>
    private sealed class ServiceWatch
    {
        private CancellationTokenSource _changed = new();

        public ServiceWatch(string serviceName, string path)
        {
            ServiceName = serviceName;
            Path = path;
            ChildWatcher = _ => Signal();
            DataWatcher = e =>
            {
                if (e.Path is { } p && p.Length > path.Length + 1)
                {
                    Dirty[p[(path.Length + 1)..]] = 0;
                }

                Signal();
            };
            Signal();
        }

        public string ServiceName { get; }

        public string Path { get; }

        public ZooKeeperWatcher ChildWatcher { get; }

        public ZooKeeperWatcher DataWatcher { get; }

        public Channel<byte> Signals { get; } = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

        public ConcurrentDictionary<string, byte> Dirty { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Entry> Entries { get; } = new(StringComparer.Ordinal);

        public TaskCompletionSource<IReadOnlyList<ServiceInstance>> FirstLoad { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task? Worker { get; set; }

        public ZooKeeperClient? Client { get; set; }

        public string? Signature { get; set; }

        public volatile IReadOnlyList<ServiceInstance>? Current;

        public volatile Exception? LastError;

        public volatile FallbackCopy? Fallback;

        public IChangeToken ChangeToken => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

        public void Signal() => Signals.Writer.TryWrite(0);

        public void FireChanged()
        {
            var old = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
            old.Cancel();
        }
    }
}

using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The process-wide Redis multiplexer and ZooKeeper session shared by every Coordination feature (locks,
/// configuration, discovery). Both are created on first use. A ZooKeeper session that expires is replaced by
/// a new client; <see cref="ZooKeeperSessionReplaced"/> tells features to re-create their ephemeral state.
/// </summary>
internal sealed class CoordinationConnections : ICoordinationConnections, IAsyncDisposable, IDisposable
{
    private readonly HybridCoordinationOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _redisGate = new(1, 1);
    private readonly object _zkGate = new();
    private Task<IConnectionMultiplexer>? _redis;
    private ZooKeeperClient? _zk;
    private bool _disposed;

    /// <summary>Creates the holder; nothing connects until first use.</summary>
    public CoordinationConnections(IOptions<HybridCoordinationOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<CoordinationConnections>();
    }

    /// <summary>The options the connections were made with.</summary>
    public HybridCoordinationOptions Options => _options;

    /// <summary>Raised (on the old client's event thread) after an expired ZooKeeper session was replaced by a new one.</summary>
    public event EventHandler<ZooKeeperClient>? ZooKeeperSessionReplaced;

    /// <summary>Raised when the current ZooKeeper client changes state.</summary>
    public event EventHandler<ZooKeeperStateChangedEventArgs>? ZooKeeperStateChanged;

    /// <summary>True when a Redis connection string is configured.</summary>
    public bool HasRedis => !string.IsNullOrWhiteSpace(_options.Redis);

    /// <summary>True when a ZooKeeper connection string is configured.</summary>
    public bool HasZooKeeper => !string.IsNullOrWhiteSpace(_options.ZooKeeper);

    /// <summary>The Redis multiplexer if it was created (it may be disconnected).</summary>
    public IConnectionMultiplexer? RedisIfCreated => _redis is { IsCompletedSuccessfully: true } t ? t.Result : null;

    /// <summary>True when Redis is configured and currently connected.</summary>
    public bool IsRedisConnected => RedisIfCreated?.IsConnected == true;

    /// <summary>
    /// The shared multiplexer, created on first call. It fails fast while disconnected (no command backlog),
    /// so callers can degrade instead of waiting.
    /// </summary>
    public Task<IConnectionMultiplexer> GetRedisAsync()
    {
        if (!HasRedis)
        {
            throw new InvalidOperationException("Coordination:Redis is not configured.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        return _redis ??= CreateRedisAsync();
    }

    private async Task<IConnectionMultiplexer> CreateRedisAsync()
    {
        await _redisGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var config = ConfigurationOptions.Parse(_options.Redis!);
            config.AbortOnConnectFail = false;
            config.BacklogPolicy = BacklogPolicy.FailFast;
            config.ConnectTimeout = (int)Math.Min(_options.ConnectTimeout.TotalMilliseconds, int.MaxValue);
            if (config.ClientName is null)
            {
                config.ClientName = "coordination";
            }

            return await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        }
        finally
        {
            _redisGate.Release();
        }
    }

    /// <summary>The current ZooKeeper client (replaced after a session expiry), created on first call.</summary>
    public ZooKeeperClient GetZooKeeper()
    {
        if (!HasZooKeeper)
        {
            throw new InvalidOperationException("Coordination:ZooKeeper is not configured.");
        }

        lock (_zkGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_zk is null || _zk.State is ZooKeeperState.Expired or ZooKeeperState.AuthFailed or ZooKeeperState.Closed)
            {
                var old = _zk;
                _zk = CreateZooKeeper();
                if (old is not null)
                {
                    _ = old.DisposeAsync().AsTask();
                }
            }

            return _zk;
        }
    }

    /// <summary>The current ZooKeeper client if one was created.</summary>
    public ZooKeeperClient? ZooKeeperIfCreated
    {
        get
        {
            lock (_zkGate)
            {
                return _zk;
            }
        }
    }

    /// <summary>The current client, waiting up to <paramref name="timeout"/> for it to be connected.</summary>
    public async Task<ZooKeeperClient> GetConnectedZooKeeperAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var zk = GetZooKeeper();
        await zk.WaitForConnectedAsync(timeout, cancellationToken).ConfigureAwait(false);
        return zk;
    }

    private ZooKeeperClient CreateZooKeeper()
    {
        var client = new ZooKeeperClient(new ZooKeeperClientOptions
        {
            ConnectionString = _options.ZooKeeper!,
            SessionTimeout = _options.SessionTimeout,
            ConnectTimeout = _options.ConnectTimeout,
            OperationTimeout = _options.OperationTimeout,
            UnavailableAfter = _options.ZooKeeperUnavailableAfter,
        }, _loggerFactory);
        client.StateChanged += OnZooKeeperStateChanged;
        return client;
    }

    private void OnZooKeeperStateChanged(object? sender, ZooKeeperStateChangedEventArgs e)
    {
        ZooKeeperStateChanged?.Invoke(sender, e);
        if (e.Current != ZooKeeperState.Expired || sender is not ZooKeeperClient expired)
        {
            return;
        }

        ZooKeeperClient replacement;
        lock (_zkGate)
        {
            if (_disposed || !ReferenceEquals(_zk, expired))
            {
                return;
            }

            replacement = GetZooKeeper();
        }

        Log.SessionReplaced(_logger, expired.SessionId);
        ZooKeeperSessionReplaced?.Invoke(this, replacement);
    }

    /// <summary>Synchronous disposal for containers disposed with <c>Dispose()</c>: runs <see cref="DisposeAsync"/>, bounded to 10 s.</summary>
    public void Dispose()
    {
        // Containers disposed synchronously still release locks and close the session (bounded, never hangs).
        _ = DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
    }

    /// <summary>Closes the ZooKeeper session (ephemeral nodes go at once) and the Redis multiplexer.</summary>
    public async ValueTask DisposeAsync()
    {
        ZooKeeperClient? zk;
        lock (_zkGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            zk = _zk;
        }

        if (zk is not null)
        {
            await zk.DisposeAsync().ConfigureAwait(false);
        }

        if (_redis is { } redis)
        {
            try
            {
                var mux = await redis.ConfigureAwait(false);
                await mux.CloseAsync().ConfigureAwait(false);
                mux.Dispose();
            }
            catch (RedisException)
            {
            }
        }

        _redisGate.Dispose();
    }
}

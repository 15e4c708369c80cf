using Coordination.Security;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The process-wide Redis multiplexer and ZooKeeper session shared by every Coordination feature (locks,
/// configuration, discovery). Both are created on first use. A ZooKeeper session that expires is replaced by
/// a new client; <see cref="ZooKeeperSessionReplaced"/> tells features to re-create their ephemeral state. Security
/// (TLS, credentials, the ACL of created nodes) comes from <see cref="ZooKeeperSecurity"/> and <see cref="RedisSecurity"/>;
/// with a ZooKeeper identity, each new session first checks that it may create nodes under the root
/// (<see cref="ZooKeeperAccessProblem"/>), so wrong credentials are reported at start, not at the first lock.
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
    private RedisSecurity? _redisSecurity;
    private string? _accessProblem;
    private string? _redisRefusal;
    private int _checkingAccess;

    /// <summary>Creates the holder; nothing connects until first use.</summary>
    public CoordinationConnections(IOptions<HybridCoordinationOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<CoordinationConnections>();
        ZooKeeperSecurity = ZooKeeperSecurity.Of(_options);
    }

    /// <summary>The ZooKeeper session's TLS, credentials and node ACL.</summary>
    public ZooKeeperSecurity ZooKeeperSecurity { get; }

    /// <summary>
    /// Why ZooKeeper refuses this session's identity the nodes it needs (checked on each new connection of a session
    /// with credentials, by creating and deleting a probe node under the root), or null.
    /// </summary>
    public string? ZooKeeperAccessProblem => Volatile.Read(ref _accessProblem);

    /// <summary>Why the latest Redis TLS handshake refused the server's certificate, or null.</summary>
    public string? RedisTlsProblem => _redisSecurity?.LastRefusal;

    /// <summary><paramref name="text"/> with the configured passwords masked (for messages from servers and client libraries).</summary>
    public string Scrub(string text) => Secrets.Scrub(text, _options.SecretValues);

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
            _redisSecurity = RedisSecurity.Apply(config, _options.RedisTls);
            config.AbortOnConnectFail = false;
            config.BacklogPolicy = BacklogPolicy.FailFast;
            config.ConnectTimeout = (int)Math.Min(_options.ConnectTimeout.TotalMilliseconds, int.MaxValue);
            config.LoggerFactory = new RedisFailureTap(e => ReportRedisRefusal(e.Data["Redis-EndPoint"] as string, e.FailureType, e));
            if (config.ClientName is null)
            {
                config.ClientName = "coordination";
            }

            var mux = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
            mux.ConnectionRestored += (_, _) => Volatile.Write(ref _redisRefusal, null);
            return mux;
        }
        finally
        {
            _redisGate.Release();
        }
    }

    // A refused Redis connection (wrong credentials, refused certificate) is an error worth one log line per cause, not
    // one per reconnect attempt; a transient socket failure is the multiplexer's business. Every failed connection of the
    // multiplexer comes here through RedisFailureTap, the first one (inside ConnectAsync) included.
    private void ReportRedisRefusal(string? endpoint, ConnectionFailureType failure, Exception? exception)
    {
        if (failure is not (ConnectionFailureType.AuthenticationFailure or ConnectionFailureType.ProtocolFailure) && RedisTlsProblem is null)
        {
            return;
        }

        // One line per cause: the refused certificate, else the kind of refusal (the messages vary from attempt to attempt).
        var tls = RedisTlsProblem;
        var cause = tls ?? failure.ToString();
        if (Interlocked.Exchange(ref _redisRefusal, cause) != cause)
        {
            // The server's words (WRONGPASS, NOAUTH) are in the innermost exception; the outer one says which connection.
            var details = exception is null ? "no details"
                : exception.GetBaseException() is { } inner && inner != exception ? $"{exception.Message}; {inner.Message}" : exception.Message;
            Log.RedisRefused(_logger, $"Redis ({endpoint ?? Secrets.Redis(_options.Redis)}) refused the connection ({failure}): {Scrub(details)}{(tls is null ? string.Empty : "; " + tls)}");
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
        var options = new ZooKeeperClientOptions
        {
            ConnectionString = _options.ZooKeeper!,
            SessionTimeout = _options.SessionTimeout,
            ConnectTimeout = _options.ConnectTimeout,
            OperationTimeout = _options.OperationTimeout,
            UnavailableAfter = _options.ZooKeeperUnavailableAfter,
        };
        ZooKeeperSecurity.ApplyTo(options);
        var client = new ZooKeeperClient(options, _loggerFactory);
        client.StateChanged += OnZooKeeperStateChanged;
        return client;
    }

    /// <summary>
    /// Checks that the session may create (and delete) nodes under the root: creates the root when missing (with the
    /// node ACL), then an ephemeral probe node, then deletes it. A denial is logged once and kept in
    /// <see cref="ZooKeeperAccessProblem"/> until a later check passes; connection trouble is reported elsewhere.
    /// </summary>
    public async Task CheckZooKeeperAccessAsync(ZooKeeperClient zk)
    {
        if (!ZooKeeperSecurity.HasIdentity || Interlocked.Exchange(ref _checkingAccess, 1) == 1)
        {
            return;
        }

        var root = _options.ZooKeeperRoot;
        try
        {
            await zk.EnsurePathAsync(root).WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
            var probe = await zk.CreateAsync((root == "/" ? string.Empty : root) + "/.access-check-", ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential).WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
            await zk.DeleteAsync(probe.Path).WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
            if (Interlocked.Exchange(ref _accessProblem, null) is not null)
            {
                Log.ZooKeeperAccessRestored(_logger, root);
            }
        }
        catch (ZooKeeperException ex) when (ex is NoAuthException || ex.Code == ZooKeeperErrorCode.InvalidAcl)
        {
            // Creates and deletes are checked against the parent's ACL.
            var parent = ex.Path is { Length: > 1 } denied ? ZooKeeperPath.GetParent(denied) : root;
            string? acl = null;
            try
            {
                acl = ZooKeeperSecurity.Describe((await zk.GetAclAsync(parent).WaitAsync(_options.OperationTimeout).ConfigureAwait(false)).Acl);
            }
            catch (Exception aclEx) when (aclEx is ZooKeeperException or TimeoutException)
            {
            }

            var problem = ZooKeeperSecurity.Denied("this session creating nodes under", parent, ex, acl);
            if (Interlocked.Exchange(ref _accessProblem, problem) != problem)
            {
                Log.ZooKeeperAccessDenied(_logger, problem);
            }
        }
        catch (Exception ex) when (ex is ZooKeeperException or TimeoutException or ObjectDisposedException)
        {
        }
        finally
        {
            Volatile.Write(ref _checkingAccess, 0);
        }
    }

    private void OnZooKeeperStateChanged(object? sender, ZooKeeperStateChangedEventArgs e)
    {
        ZooKeeperStateChanged?.Invoke(sender, e);
        if (e.Current == ZooKeeperState.Connected && e.Previous == ZooKeeperState.Connecting && sender is ZooKeeperClient connected)
        {
            _ = CheckZooKeeperAccessAsync(connected);
        }

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

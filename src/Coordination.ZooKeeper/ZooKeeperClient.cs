using System.Diagnostics;
using System.Threading.Channels;
using Coordination.ZooKeeper.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination.ZooKeeper;

/// <summary>
/// An asynchronous ZooKeeper client: one session, many concurrent requests pipelined on one socket and
/// matched by xid, one reader loop, reconnection inside the client.
/// </summary>
/// <remarks>
/// Session state machine:
/// <code>
/// Connecting --handshake ok--> Connected --socket lost / no reply in 2/3 timeout--> Suspended
/// Suspended --re-attached (same id + password) on any server--> Connected   (watches re-set with SetWatches2)
/// Suspended/Connecting --server says timeout 0--> Expired  (terminal: pending and waiting calls fail with SessionExpired)
/// any --auth reply AuthFailed--> AuthFailed (terminal);  any --DisposeAsync--> Closed (terminal, closeSession sent)
/// </code>
/// Each connection: TCP connect, the TLS handshake (when <see cref="ZooKeeperClientOptions.Tls"/> is on), the session
/// handshake, then the credentials (<see cref="ZooKeeperClientOptions.AuthInfo"/> and <see cref="AddAuthAsync"/>'s) and
/// the watches are re-sent before any request, so every request of a session runs with its identities.
/// A call made while not Connected waits for the connection up to <see cref="ZooKeeperClientOptions.OperationTimeout"/>
/// and then fails with <see cref="ConnectionLossException"/>; a call in flight when the socket drops fails with
/// ConnectionLoss (its effect is unknown). Watch callbacks and <see cref="StateChanged"/> run on one event
/// thread, in the order the server sent them.
/// </remarks>
public sealed partial class ZooKeeperClient : IAsyncDisposable
{
    /// <summary>
    /// Upper bound for one node's data: jute.maxbuffer's default (1 MiB) minus one byte. The whole serialized request
    /// (path, ACL and headers included) must fit in that size too, so the usable maximum is a little lower; requests
    /// over it are refused before sending.
    /// </summary>
    public const int MaxDataLength = 1024 * 1024 - 1;

    // The server drops the connection ("Len error") when a request frame exceeds jute.maxbuffer.
    private const int MaxRequestLength = MaxDataLength;

    private const int MaxSetWatchesBytes = 128 * 1024;

    private readonly ZooKeeperClientOptions _options;
    private readonly ZooKeeperConnectionString _connectionString;
    private readonly ILogger _logger;
    private readonly WatchManager _watches = new();
    private readonly Channel<Action> _events = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _disposed = new();
    private readonly List<AuthEntry> _authInfos = []; // also guards each connection's PendingAuthReplies
    private readonly TlsClientSettings? _tls;
    private readonly object _stateGate = new();
    private readonly (string Host, int Port)[] _hosts;
    private readonly Task _sessionLoop;
    private readonly Task _eventLoop;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _attemptFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastFailedAttempt;
    private Connection? _connection;
    private ZooKeeperState _state = ZooKeeperState.Connecting;
    private long _sessionId;
    private byte[]? _password;
    private long _lastZxid;
    private int _xid;
    private long _requestsSent;
    private int _negotiatedTimeoutMs;
    private bool _chrootChecked;
    private bool _closing; // DisposeAsync began: the server closing the socket is expected, not a loss
    private Exception? _lastConnectionError;
    private Exception? _lastSecurityFailure;
    private int _securityFailures; // consecutive attempts whose TLS handshake refused the server's certificate

    /// <summary>Creates the client and starts connecting in the background.</summary>
    /// <exception cref="ArgumentException">The options are invalid (the message names the option).</exception>
    public ZooKeeperClient(ZooKeeperClientOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _connectionString = ZooKeeperConnectionString.Parse(options.ConnectionString);
        _hosts = [.. _connectionString.Hosts];
        if (options.ShuffleHosts)
        {
            Random.Shared.Shuffle(_hosts);
        }

        _tls = TlsClientSettings.From(options.Tls);
        foreach (var auth in options.AuthInfo)
        {
            _authInfos.Add(new AuthEntry(auth.Scheme, auth.Auth.ToArray()));
        }

        _sessionId = options.SessionId;
        _password = options.SessionPassword;
        _chrootChecked = !options.CreateChroot || _connectionString.Chroot is null;
        _logger = (ILogger?)loggerFactory?.CreateLogger<ZooKeeperClient>() ?? NullLogger.Instance;
        _eventLoop = Task.Run(EventLoopAsync);
        _sessionLoop = Task.Run(SessionLoopAsync);
    }

    /// <summary>
    /// Creates a client and waits until its session is connected, at most <see cref="ZooKeeperClientOptions.OperationTimeout"/>
    /// (no server reachable must not mean an endless wait); on failure the client is disposed.
    /// </summary>
    /// <exception cref="TimeoutException">No server accepted the session within the operation timeout.</exception>
    public static async Task<ZooKeeperClient> ConnectAsync(ZooKeeperClientOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var client = new ZooKeeperClient(options, loggerFactory);
        try
        {
            await client.WaitForConnectedAsync(options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Raised on the event thread whenever <see cref="State"/> changes.</summary>
    public event EventHandler<ZooKeeperStateChangedEventArgs>? StateChanged;

    /// <summary>The current state.</summary>
    public ZooKeeperState State
    {
        get
        {
            lock (_stateGate)
            {
                return _state;
            }
        }
    }

    /// <summary>The session id (0 before the first connection).</summary>
    public long SessionId => Interlocked.Read(ref _sessionId);

    /// <summary>The session password (empty before the first connection).</summary>
    public ReadOnlyMemory<byte> SessionPassword => _password ?? [];

    /// <summary>The session timeout the server granted.</summary>
    public TimeSpan NegotiatedSessionTimeout => TimeSpan.FromMilliseconds(Volatile.Read(ref _negotiatedTimeoutMs));

    /// <summary>The server (<c>host:port</c>) of the current connection, or null while disconnected.</summary>
    public string? ConnectedServer => _connection is { IsClosed: false } c ? c.Server : null;

    /// <summary>
    /// Why the latest attempt to connect failed (refused certificate, closed handshake, unreachable server...), or null
    /// since the last successful connection. For health checks and messages.
    /// </summary>
    public Exception? LastConnectionError => Volatile.Read(ref _lastConnectionError);

    /// <summary>True when the connections use TLS.</summary>
    public bool UsesTls => _tls is not null;

    /// <summary>The chroot of this client, or null.</summary>
    public string? Chroot => _connectionString.Chroot;

    /// <summary>Requests this client has sent (pings and session housekeeping excluded).</summary>
    public long RequestsSent => Interlocked.Read(ref _requestsSent);

    /// <summary>The largest zxid seen in a reply.</summary>
    public long LastZxid => Interlocked.Read(ref _lastZxid);

    /// <summary>
    /// <see cref="Stopwatch"/> timestamp of the last bytes received from a server. While suspended, the session
    /// can expire on the server once <see cref="NegotiatedSessionTimeout"/> has passed since this moment.
    /// </summary>
    public long LastHeardFromServer => _connection?.LastReceived ?? 0;

    /// <summary>
    /// <see cref="Stopwatch"/> timestamp at which the newest request the server answered was sent (pings included),
    /// 0 before the first connection. The server heard from this session no earlier, so it cannot expire the session
    /// before this moment plus <see cref="NegotiatedSessionTimeout"/>: the reference for a safe lost-lock bound.
    /// </summary>
    public long LastAcknowledgedSend => _connection?.LastAcknowledgedSend ?? 0;

    /// <summary>
    /// True when the servers are known to be gone: the session is suspended, no server has answered for
    /// <paramref name="unavailableAfter"/>, and an attempt to reach one has failed since the last answer (so a process
    /// that merely could not run its reconnect, e.g. starved of threads, does not count ZooKeeper as gone).
    /// </summary>
    public bool IsUnavailable(TimeSpan unavailableAfter)
    {
        var lastHeard = LastHeardFromServer;
        return State == ZooKeeperState.Suspended
            && Stopwatch.GetElapsedTime(lastHeard) >= unavailableAfter
            && Interlocked.Read(ref _lastFailedAttempt) > lastHeard;
    }

    /// <summary>
    /// Waits until the client is connected, but throws <see cref="ConnectionLossException"/> as soon as the servers
    /// are known to be gone (<see cref="IsUnavailable"/>): a blip is waited out, an outage fails fast.
    /// </summary>
    /// <exception cref="ConnectionLossException">No server answered for <paramref name="unavailableAfter"/>.</exception>
    /// <exception cref="TimeoutException">Not connected within <paramref name="timeout"/>.</exception>
    /// <exception cref="SessionExpiredException">The session expired.</exception>
    public Task WaitForSessionAsync(TimeSpan unavailableAfter, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitForSessionCoreAsync(unavailableAfter, timeout, cancellationToken);

    /// <summary>One wait for both public forms: until connected, the deadline, or (with a bound) the servers known gone.</summary>
    private async Task WaitForSessionCoreAsync(TimeSpan? unavailableAfter, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var deadline = Deadline.After(timeout);
        while (true)
        {
            Task connected, failed;
            lock (_stateGate)
            {
                ThrowIfTerminal(null);
                if (_state == ZooKeeperState.Connected)
                {
                    return;
                }

                connected = _connected.Task;
                failed = _attemptFailed.Task;
            }

            if (RefusedBySecurity() is { } refused)
            {
                // Every server's certificate was refused: waiting cannot help until the certificates are fixed.
                throw new ConnectionLossException(null, $"No ZooKeeper server of '{_connectionString}' can be used: {refused.Message}", refused);
            }

            if (unavailableAfter is { } bound && IsUnavailable(bound))
            {
                throw new ConnectionLossException(null, $"No ZooKeeper server of '{_connectionString}' has answered for {Stopwatch.GetElapsedTime(LastHeardFromServer).TotalSeconds:0.0} s (unavailable after {bound}){LastErrorSuffix()}.", LastConnectionError);
            }

            if (deadline.HasPassed)
            {
                throw new TimeoutException($"ZooKeeper ({_connectionString}) was not connected within {timeout}{LastErrorSuffix()}.", LastConnectionError);
            }

            // Wake on the connection or a failed attempt (it may make the servers "known gone" or show refused
            // certificates); with a bound also when the silence reaches the bound.
            var wait = deadline.Remaining;
            var wake = Task.WhenAny(connected, failed);
            if (unavailableAfter is { } b)
            {
                var untilBound = b - Stopwatch.GetElapsedTime(LastHeardFromServer);
                if (untilBound > TimeSpan.Zero && (deadline.IsInfinite || untilBound < wait))
                {
                    wait = untilBound;
                }
            }

            try
            {
                await wake.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>The refused certificate when the latest attempt on every server refused it, else null.</summary>
    private Exception? RefusedBySecurity() => Volatile.Read(ref _securityFailures) >= _hosts.Length ? Volatile.Read(ref _lastSecurityFailure) : null;

    /// <summary>"; the last attempt failed: ..." for messages about not being connected, or empty.</summary>
    internal string LastErrorSuffix() => LastConnectionError is { } e ? $"; the last attempt failed: {e.Message}" : string.Empty;

    private void OnAttemptFailed()
    {
        Interlocked.Exchange(ref _lastFailedAttempt, Stopwatch.GetTimestamp());
        Interlocked.Exchange(ref _attemptFailed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Waits until the client is connected.</summary>
    /// <exception cref="TimeoutException">Not connected within <paramref name="timeout"/>.</exception>
    /// <exception cref="SessionExpiredException">The session expired.</exception>
    public Task WaitForConnectedAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitForSessionCoreAsync(null, timeout, cancellationToken);

    private void ThrowIfTerminal(string? path)
    {
        switch (_state)
        {
            case ZooKeeperState.Expired:
                throw new SessionExpiredException(path, $"ZooKeeper session 0x{_sessionId:x} expired; create a new client.");
            case ZooKeeperState.AuthFailed:
                throw new ZooKeeperException(ZooKeeperErrorCode.AuthFailed, path, "ZooKeeper authentication failed; create a new client.");
            case ZooKeeperState.Closed:
                throw new ObjectDisposedException(nameof(ZooKeeperClient), "The ZooKeeper client was disposed.");
        }
    }

    /// <summary>Closes the session (the server deletes its ephemeral nodes at once) and the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        Connection? conn;
        ZooKeeperState before;
        lock (_stateGate)
        {
            before = _state;
            if (before == ZooKeeperState.Closed || _closing)
            {
                return;
            }

            _closing = true;
            conn = _connection;
        }

        if (before == ZooKeeperState.Connected && conn is not null)
        {
            var close = new Request<bool>(OpCode.CloseSession, null, Frame(OpCode.CloseSession, _ => { }), (_, _) => true);
            if (conn.TrySend(close, NextXid()))
            {
                try
                {
                    await close.Task.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is TimeoutException or ZooKeeperException)
                {
                }
            }
        }

        SetState(ZooKeeperState.Closed);
        await _disposed.CancelAsync().ConfigureAwait(false);
        conn?.Close(new ObjectDisposedException(nameof(ZooKeeperClient)));
        _connected.TrySetException(new ObjectDisposedException(nameof(ZooKeeperClient)));
        _ = _connected.Task.Exception;
        FailAuthWaiters(new ObjectDisposedException(nameof(ZooKeeperClient)));
        Log.Closed(_logger, SessionId);
        try
        {
            await _sessionLoop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _events.Writer.TryComplete();
        await _eventLoop.ConfigureAwait(false);
        _disposed.Dispose();
    }
}

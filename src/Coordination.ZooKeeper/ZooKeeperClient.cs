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
/// A call made while not Connected waits for the connection up to <see cref="ZooKeeperClientOptions.OperationTimeout"/>
/// and then fails with <see cref="ConnectionLossException"/>; a call in flight when the socket drops fails with
/// ConnectionLoss (its effect is unknown). Watch callbacks and <see cref="StateChanged"/> run on one event
/// thread, in the order the server sent them.
/// </remarks>
public sealed class ZooKeeperClient : IAsyncDisposable
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
    private readonly List<(string Scheme, byte[] Auth)> _authInfos = [];
    private readonly Queue<TaskCompletionSource> _pendingAuth = new();
    private readonly object _stateGate = new();
    private readonly (string Host, int Port)[] _hosts;
    private readonly Task _sessionLoop;
    private readonly Task _eventLoop;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
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

    /// <summary>Waits until the client is connected.</summary>
    /// <exception cref="TimeoutException">Not connected within <paramref name="timeout"/>.</exception>
    /// <exception cref="SessionExpiredException">The session expired.</exception>
    public async Task WaitForConnectedAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var deadline = timeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        while (true)
        {
            Task wait;
            lock (_stateGate)
            {
                ThrowIfTerminal(null);
                if (_state == ZooKeeperState.Connected)
                {
                    return;
                }

                wait = _connected.Task;
            }

            var left = deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left != Timeout.InfiniteTimeSpan && left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"ZooKeeper ({_connectionString}) was not connected within {timeout}.");
            }

            try
            {
                await wait.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"ZooKeeper ({_connectionString}) was not connected within {timeout}.");
            }
        }
    }

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

    // ---------------------------------------------------------------- session

    private async Task SessionLoopAsync()
    {
        var ct = _disposed.Token;
        var firstConnect = true;
        var failures = 0;
        var next = 0;
        while (!ct.IsCancellationRequested)
        {
            var (host, port) = _hosts[next];
            next = (next + 1) % _hosts.Length;
            Connection conn;
            try
            {
                conn = await Connection.ConnectAsync(host, port, (int)_options.SessionTimeout.TotalMilliseconds, Interlocked.Read(ref _sessionId), _password, Interlocked.Read(ref _lastZxid), _options.ConnectTimeout, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                if (IsClosing)
                {
                    return;
                }

                Log.ConnectFailed(_logger, $"{host}:{port}", ex);
                if (++failures % _hosts.Length == 0)
                {
                    var delay = Math.Min(1000, 50 * (failures / _hosts.Length)) + Random.Shared.Next(50);
                    Log.AllServersFailed(_logger, _connectionString.Original, delay);
                    try
                    {
                        await Task.Delay(delay, ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }

                continue;
            }

            if (conn.Expired)
            {
                conn.Close(null);
                OnExpired();
                return;
            }

            failures = 0;
            Interlocked.Exchange(ref _sessionId, conn.SessionId);
            _password = conn.Password;
            Volatile.Write(ref _negotiatedTimeoutMs, conn.NegotiatedTimeoutMs);
            _connection = conn;
            conn.Start(OnFrame);
            ResendAuthAndWatches(conn);
            if (!_chrootChecked)
            {
                try
                {
                    await EnsureChrootAsync(conn).ConfigureAwait(false);
                    _chrootChecked = true;
                }
                catch (Exception ex) when (ex is ZooKeeperException or TimeoutException)
                {
                    Log.ConnectFailed(_logger, conn.Server, ex);
                    conn.Close(ex);
                    continue;
                }
            }

            if (!firstConnect)
            {
                ZooKeeperMetrics.Reconnects.Add(1);
            }

            firstConnect = false;
            Log.Connected(_logger, conn.SessionId, conn.Server, conn.NegotiatedTimeoutMs);
            TaskCompletionSource signal;
            lock (_stateGate)
            {
                if (_closing || _state is ZooKeeperState.Closed or ZooKeeperState.AuthFailed)
                {
                    conn.Close(null);
                    return;
                }

                signal = _connected;
            }

            SetState(ZooKeeperState.Connected);
            signal.TrySetResult();
            using var pinger = new CancellationTokenSource();
            var pingLoop = PingLoopAsync(conn, pinger.Token);
            var reason = await conn.Completion.ConfigureAwait(false);
            await pinger.CancelAsync().ConfigureAwait(false);
            await pingLoop.ConfigureAwait(false);
            lock (_stateGate)
            {
                if (_state != ZooKeeperState.Connected || _closing)
                {
                    return; // closed, closing (the server ends the connection after closeSession) or auth failed
                }

                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            Log.ConnectionLost(_logger, conn.Server, conn.SessionId, reason);
            SetState(ZooKeeperState.Suspended);
        }
    }

    private async Task PingLoopAsync(Connection conn, CancellationToken ct)
    {
        var timeout = conn.NegotiatedTimeoutMs;
        // An idle session is pinged every quarter of the timeout, checked every twelfth: the newest acknowledged send
        // is then never older than a third of the timeout while connected, which the lost-lock bound relies on.
        var interval = TimeSpan.FromMilliseconds(Math.Max(50, timeout / 4));
        var readTimeoutTicks = (long)(timeout * 2 / 3.0 / 1000 * Stopwatch.Frequency);
        var opTimeoutTicks = (long)(_options.OperationTimeout.TotalSeconds * Stopwatch.Frequency);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(25, timeout / 12)));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                if (now - conn.LastReceived > readTimeoutTicks)
                {
                    conn.Close(new TimeoutException($"No reply from ZooKeeper server {conn.Server} in {timeout * 2 / 3} ms."));
                    return;
                }

                if (Stopwatch.GetElapsedTime(conn.LastSent, now) >= interval || Stopwatch.GetElapsedTime(conn.LastReceived, now) >= interval)
                {
                    conn.TrySendPing(RawFrame(Xids.Ping, OpCode.Ping, null));
                }

                conn.ExpireOld(opTimeoutTicks);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static byte[] RawFrame(int xid, OpCode op, Action<JuteWriter>? body)
    {
        using var w = new JuteWriter(64);
        w.WriteInt(xid);
        w.WriteInt((int)op);
        body?.Invoke(w);
        w.Finish();
        return w.Buffer.AsSpan(0, w.Length).ToArray();
    }

    private void ResendAuthAndWatches(Connection conn)
    {
        lock (_authInfos)
        {
            foreach (var (scheme, auth) in _authInfos)
            {
                conn.TrySendRaw(AuthFrame(scheme, auth));
            }
        }

        var (data, exist, child, persistent, recursive) = _watches.Snapshot();
        if (data.Count + exist.Count + child.Count + persistent.Count + recursive.Count == 0)
        {
            return;
        }

        // Re-registers every watch relative to the last zxid seen: the server fires at once for changes missed while
        // disconnected. Split like the Java client (128 KiB per frame): one frame over jute.maxbuffer would make the
        // server drop every connection attempt.
        var zxid = Interlocked.Read(ref _lastZxid);
        List<string>[] lists = [[.. data.Select(Prefix)], [.. exist.Select(Prefix)], [.. child.Select(Prefix)], [.. persistent.Select(Prefix)], [.. recursive.Select(Prefix)]];
        var next = new int[lists.Length];
        while (next.Where((n, i) => n < lists[i].Count).Any())
        {
            var batch = new List<string>[lists.Length];
            var bytes = 0;
            for (var i = 0; i < lists.Length; i++)
            {
                batch[i] = [];
                while (next[i] < lists[i].Count)
                {
                    var size = System.Text.Encoding.UTF8.GetByteCount(lists[i][next[i]]) + 4;
                    if (bytes > 0 && bytes + size > MaxSetWatchesBytes)
                    {
                        break;
                    }

                    batch[i].Add(lists[i][next[i]++]);
                    bytes += size;
                }
            }

            conn.TrySendRaw(RawFrame(Xids.SetWatches, OpCode.SetWatches2, w =>
            {
                w.WriteLong(zxid);
                foreach (var paths in batch)
                {
                    w.WriteStringVector(paths);
                }
            }));
        }
    }

    private static byte[] AuthFrame(string scheme, byte[] auth) => RawFrame(Xids.Auth, OpCode.Auth, w =>
    {
        w.WriteInt(0);
        w.WriteString(scheme);
        w.WriteBuffer(auth);
    });

    private async Task EnsureChrootAsync(Connection conn)
    {
        var chroot = _connectionString.Chroot!;
        var segments = chroot.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var path = string.Empty;
        foreach (var s in segments)
        {
            path += "/" + s;
            var p = path;
            var req = new Request<bool>(OpCode.Create, p, Frame(OpCode.Create, w =>
            {
                w.WriteString(p);
                w.WriteNullBuffer();
                w.WriteAcl(ZooKeeperAcl.OpenUnsafe);
                w.WriteInt((int)CreateMode.Persistent);
            }), (err, _) => err is ZooKeeperErrorCode.Ok or ZooKeeperErrorCode.NodeExists ? true : throw ZooKeeperException.Create(err, p));
            if (!conn.TrySend(req, NextXid()))
            {
                throw new ConnectionLossException(p);
            }

            await req.Task.WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
        }
    }

    private bool IsClosing
    {
        get
        {
            lock (_stateGate)
            {
                return _closing;
            }
        }
    }

    private void OnExpired()
    {
        lock (_stateGate)
        {
            if (_closing || _state is ZooKeeperState.Closed or ZooKeeperState.Expired)
            {
                return;
            }
        }

        Log.SessionExpired(_logger, SessionId);
        ZooKeeperMetrics.Expirations.Add(1);
        SetState(ZooKeeperState.Expired);
        _connected.TrySetException(new SessionExpiredException(null, $"ZooKeeper session 0x{SessionId:x} expired."));
        _ = _connected.Task.Exception; // observed
        FailAuthWaiters(new SessionExpiredException(null));
        var ev = new WatchedEvent(WatchEventType.None, WatchKeeperState.Expired, null);
        foreach (var w in _watches.DrainAll())
        {
            Dispatch(() => w(ev));
        }
    }

    private void SetState(ZooKeeperState next)
    {
        ZooKeeperState previous;
        lock (_stateGate)
        {
            previous = _state;
            // Closed is final; Expired and AuthFailed only lead to Closed.
            if (previous == next || previous == ZooKeeperState.Closed
                || (previous is ZooKeeperState.Expired or ZooKeeperState.AuthFailed && next != ZooKeeperState.Closed))
            {
                return;
            }

            _state = next;
        }

        Dispatch(() => StateChanged?.Invoke(this, new ZooKeeperStateChangedEventArgs(previous, next)));
    }

    private void Dispatch(Action action) => _events.Writer.TryWrite(action);

    private async Task EventLoopAsync()
    {
        await foreach (var action in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                action();
            }
            catch (Exception ex)
            {
                Log.WatcherFailed(_logger, ex);
            }
        }
    }

    private void OnFrame(Connection conn, ReadOnlySpan<byte> frame)
    {
        var r = new JuteReader(frame);
        var xid = r.ReadInt();
        var zxid = r.ReadLong();
        var err = (ZooKeeperErrorCode)r.ReadInt();
        switch (xid)
        {
            case Xids.Notification:
            {
                var type = (WatchEventType)r.ReadInt();
                var state = (WatchKeeperState)r.ReadInt();
                var path = Strip(r.ReadString());
                var ev = new WatchedEvent(type, state, path);
                foreach (var w in _watches.Materialize(ev))
                {
                    Dispatch(() => w(ev));
                }

                return;
            }

            case Xids.Ping:
                conn.AcknowledgePing();
                return;
            case Xids.SetWatches:
                return;
            case Xids.Auth:
            {
                TaskCompletionSource? waiter;
                lock (_pendingAuth)
                {
                    _pendingAuth.TryDequeue(out waiter);
                }

                if (err == ZooKeeperErrorCode.AuthFailed)
                {
                    Log.AuthFailed(_logger);
                    waiter?.TrySetException(new ZooKeeperException(ZooKeeperErrorCode.AuthFailed, null, "ZooKeeper rejected the credentials."));
                    SetState(ZooKeeperState.AuthFailed);
                    _connected.TrySetException(new ZooKeeperException(ZooKeeperErrorCode.AuthFailed, null));
                    _ = _connected.Task.Exception;
                }
                else
                {
                    waiter?.TrySetResult();
                }

                return;
            }
        }

        if (zxid > 0)
        {
            long seen;
            while (zxid > (seen = Interlocked.Read(ref _lastZxid)) && Interlocked.CompareExchange(ref _lastZxid, zxid, seen) != seen)
            {
            }
        }

        var request = conn.TakePending(xid);
        if (request is not null)
        {
            conn.Acknowledge(request.SentAt);
            request.Complete(err, frame[16..]);
        }
    }

    // ---------------------------------------------------------------- plumbing

    private int NextXid()
    {
        var x = Interlocked.Increment(ref _xid);
        if (x <= 0)
        {
            Interlocked.CompareExchange(ref _xid, 1, x);
            x = Interlocked.Increment(ref _xid);
        }

        return x;
    }

    private static JuteWriter Frame(OpCode op, Action<JuteWriter> body)
    {
        var w = new JuteWriter();
        w.WriteInt(0); // xid, patched when sent
        w.WriteInt((int)op);
        body(w);
        w.Finish();
        return w;
    }

    private string Prefix(string path)
    {
        var chroot = _connectionString.Chroot;
        return chroot is null ? path : path == "/" ? chroot : chroot + path;
    }

    private string? Strip(string? serverPath)
    {
        var chroot = _connectionString.Chroot;
        if (chroot is null || serverPath is null)
        {
            return serverPath;
        }

        if (serverPath == chroot)
        {
            return "/";
        }

        return serverPath.StartsWith(chroot + "/", StringComparison.Ordinal) ? serverPath[chroot.Length..] : serverPath;
    }

    // Hot path without an async state machine: when connected, the request's own task is returned (plus a
    // cancellation registration only when the token can cancel); otherwise the slow path waits for a connection.
    private Task<T> SendAsync<T>(OpCode op, string path, Action<JuteWriter> body, ResponseParser<T> parser, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var frame = Frame(op, body);
        if (frame.Length - 4 > MaxRequestLength)
        {
            var size = frame.Length - 4;
            frame.Dispose();
            throw new ArgumentException(
                $"The {op} request for '{path}' is {size} bytes serialized; ZooKeeper accepts at most {MaxRequestLength} bytes per request (jute.maxbuffer), path, ACL and headers included. Send less data.",
                op == OpCode.Multi ? "ops" : "data");
        }

        var request = new Request<T>(op, path, frame, parser);
        Connection? conn;
        lock (_stateGate)
        {
            conn = _state == ZooKeeperState.Connected ? _connection : null;
        }

        if (conn is not null && conn.TrySend(request, NextXid()))
        {
            ZooKeeperMetrics.Requests.Add(1);
            Interlocked.Increment(ref _requestsSent);
            return cancellationToken.CanBeCanceled ? AwaitCancellableAsync(request, cancellationToken) : request.Task;
        }

        return SendWhenConnectedAsync(request, cancellationToken);
    }

    private static async Task<T> AwaitCancellableAsync<T>(Request<T> request, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static (s, t) => ((Request<T>)s!).Cancel(t), request))
        {
            return await request.Task.ConfigureAwait(false);
        }
    }

    private async Task<T> SendWhenConnectedAsync<T>(Request<T> request, CancellationToken cancellationToken)
    {
        var path = request.Path!;
        var op = request.Op;
        var deadline = Stopwatch.GetTimestamp() + (long)(_options.OperationTimeout.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (true)
            {
                Connection? conn;
                Task wait;
                lock (_stateGate)
                {
                    ThrowIfTerminal(path);
                    conn = _state == ZooKeeperState.Connected ? _connection : null;
                    wait = _connected.Task;
                }

                if (conn is not null && conn.TrySend(request, NextXid()))
                {
                    break;
                }

                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (left <= TimeSpan.Zero)
                {
                    throw new ConnectionLossException(path, $"No ZooKeeper server of '{_connectionString}' could be reached within {_options.OperationTimeout} for {op} on '{path}'.");
                }

                try
                {
                    await wait.WaitAsync(left, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // loop: the deadline check reports ConnectionLoss
                }
                catch (ZooKeeperException)
                {
                    // expired or auth failed: the next iteration throws the typed error
                }
            }
        }
        catch
        {
            request.ReleaseFrame();
            throw;
        }

        ZooKeeperMetrics.Requests.Add(1);
        Interlocked.Increment(ref _requestsSent);
        return cancellationToken.CanBeCanceled
            ? await AwaitCancellableAsync(request, cancellationToken).ConfigureAwait(false)
            : await request.Task.ConfigureAwait(false);
    }

    private static void ValidateData(ReadOnlySpan<byte> data, string path)
    {
        if (data.Length > MaxDataLength)
        {
            throw new ArgumentException($"The data for '{path}' is {data.Length} bytes; ZooKeeper accepts at most {MaxDataLength} bytes per node (jute.maxbuffer).", "data");
        }
    }

    private static void ValidateVersion(int version)
    {
        if (version < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, $"Version {version} is invalid; use -1 for any version or a node's version (>= 0).");
        }
    }

    private static void ValidateAcl(IReadOnlyList<ZooKeeperAcl> acl)
    {
        if (acl.Count == 0)
        {
            throw new ArgumentException("An ACL must have at least one entry (use ZooKeeperAcl.OpenUnsafe for world:anyone).", nameof(acl));
        }

        foreach (var a in acl)
        {
            if (a is null || string.IsNullOrEmpty(a.Scheme))
            {
                throw new ArgumentException($"ACL entry '{a}' has no scheme.", nameof(acl));
            }
        }
    }

    internal static ZooKeeperException Error(ZooKeeperErrorCode err, string path) => ZooKeeperException.Create(err, path);

    // ---------------------------------------------------------------- operations

    /// <summary>Creates a node and returns its actual path (with the sequence suffix) and stat.</summary>
    /// <param name="path">Absolute path; for sequential modes it may end with '/' (the name is then just the sequence).</param>
    /// <param name="data">The node's data (at most <see cref="MaxDataLength"/> bytes).</param>
    /// <param name="mode">Persistent, ephemeral, sequential, container or TTL.</param>
    /// <param name="acl">The ACL; default world:anyone with all permissions.</param>
    /// <param name="ttl">For TTL modes: milliseconds without change after which the server deletes the node; otherwise 0.</param>
    /// <param name="cancellationToken">Cancels the wait (the create may still be applied).</param>
    /// <exception cref="NodeExistsException">The node exists.</exception>
    /// <exception cref="NoNodeException">The parent does not exist.</exception>
    public Task<ZooKeeperCreateResult> CreateAsync(string path, ReadOnlyMemory<byte> data, CreateMode mode = CreateMode.Persistent, IReadOnlyList<ZooKeeperAcl>? acl = null, long ttl = 0, CancellationToken cancellationToken = default)
    {
        ValidateCreate(path, data.Span, mode, acl ??= ZooKeeperAcl.OpenUnsafe, ttl);
        var op = mode.IsTtl() ? OpCode.CreateTtl : mode == CreateMode.Container ? OpCode.CreateContainer : OpCode.Create2;
        var server = Prefix(path);
        return SendAsync(op, path, w =>
        {
            w.WriteString(server);
            w.WriteBuffer(data.Span);
            w.WriteAcl(acl);
            w.WriteInt((int)mode);
            if (mode.IsTtl())
            {
                w.WriteLong(ttl);
            }
        }, (err, body) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            var r = new JuteReader(body);
            var created = Strip(r.ReadString())!;
            return new ZooKeeperCreateResult(created, r.ReadStat());
        }, cancellationToken);
    }

    private static void ValidateCreate(string path, ReadOnlySpan<byte> data, CreateMode mode, IReadOnlyList<ZooKeeperAcl> acl, long ttl)
    {
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"Unknown create mode {(int)mode}.");
        }

        ZooKeeperPath.Validate(path, nameof(path), sequential: mode.IsSequential());
        if (path == "/")
        {
            throw new ArgumentException("The root '/' cannot be created.", nameof(path));
        }

        ValidateData(data, path);
        ValidateAcl(acl);
        if (mode.IsTtl())
        {
            if (ttl is <= 0 or > 0xFF_FFFF_FFFFL)
            {
                throw new ArgumentOutOfRangeException(nameof(ttl), ttl, $"TTL {ttl} ms for '{path}' must be between 1 and {0xFF_FFFF_FFFFL} with mode {mode}.");
            }
        }
        else if (ttl != 0)
        {
            throw new ArgumentException($"A TTL ({ttl} ms) was given for '{path}' but mode {mode} is not a TTL mode; use PersistentWithTtl or PersistentSequentialWithTtl.", nameof(ttl));
        }
    }

    /// <summary>Deletes a node if its version matches (-1 = any version).</summary>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    /// <exception cref="BadVersionException">The version did not match.</exception>
    /// <exception cref="NotEmptyException">The node has children.</exception>
    public Task DeleteAsync(string path, int version = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        ValidateVersion(version);
        if (path == "/")
        {
            throw new ArgumentException("The root '/' cannot be deleted.", nameof(path));
        }

        var server = Prefix(path);
        return SendAsync(OpCode.Delete, path, w =>
        {
            w.WriteString(server);
            w.WriteInt(version);
        }, (err, _) => err == ZooKeeperErrorCode.Ok ? true : throw Error(err, path), cancellationToken);
    }

    /// <summary>Returns the node's stat, or null when it does not exist. A watcher fires once on creation, deletion or data change.</summary>
    public Task<ZooKeeperStat?> ExistsAsync(string path, ZooKeeperWatcher? watcher = null, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.Exists, path, PathAndWatch(server, watcher is not null), (err, body) =>
        {
            if (err == ZooKeeperErrorCode.NoNode)
            {
                if (watcher is not null)
                {
                    _watches.AddExist(path, watcher);
                }

                return null;
            }

            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            if (watcher is not null)
            {
                _watches.AddData(path, watcher);
            }

            return (ZooKeeperStat?)new JuteReader(body).ReadStat();
        }, cancellationToken);
    }

    /// <summary>Returns the node's data and stat. A watcher fires once on data change or deletion.</summary>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    public Task<ZooKeeperDataResult> GetDataAsync(string path, ZooKeeperWatcher? watcher = null, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.GetData, path, PathAndWatch(server, watcher is not null), (err, body) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            if (watcher is not null)
            {
                _watches.AddData(path, watcher);
            }

            var r = new JuteReader(body);
            var data = r.ReadBuffer() ?? [];
            return new ZooKeeperDataResult(data, r.ReadStat());
        }, cancellationToken);
    }

    /// <summary>Sets the node's data if its version matches (-1 = any) and returns the new stat.</summary>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    /// <exception cref="BadVersionException">The version did not match.</exception>
    public Task<ZooKeeperStat> SetDataAsync(string path, ReadOnlyMemory<byte> data, int version = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        ValidateData(data.Span, path);
        ValidateVersion(version);
        var server = Prefix(path);
        return SendAsync(OpCode.SetData, path, w =>
        {
            w.WriteString(server);
            w.WriteBuffer(data.Span);
            w.WriteInt(version);
        }, (err, body) => err == ZooKeeperErrorCode.Ok ? new JuteReader(body).ReadStat() : throw Error(err, path), cancellationToken);
    }

    /// <summary>Returns the node's children (names, unsorted) and stat. A watcher fires once when children change or the node is deleted.</summary>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    public Task<ZooKeeperChildrenResult> GetChildrenAsync(string path, ZooKeeperWatcher? watcher = null, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.GetChildren2, path, PathAndWatch(server, watcher is not null), (err, body) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            if (watcher is not null)
            {
                _watches.AddChild(path, watcher);
            }

            var r = new JuteReader(body);
            var children = r.ReadStringVector();
            return new ZooKeeperChildrenResult(children, r.ReadStat());
        }, cancellationToken);
    }

    /// <summary>
    /// Makes sure <paramref name="path"/> exists, creating it and any missing ancestors as empty persistent nodes.
    /// Existing ancestors are never written to (so a restrictive ACL above the first missing node does not matter).
    /// Returns the paths this call created, top-down; a node another client creates meanwhile is not an error.
    /// </summary>
    public async Task<IReadOnlyList<string>> EnsurePathAsync(string path, IReadOnlyList<ZooKeeperAcl>? acl = null, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var missing = new Stack<string>();
        for (var p = path; p != "/"; p = ZooKeeperPath.GetParent(p))
        {
            if (await ExistsAsync(p, null, cancellationToken).ConfigureAwait(false) is not null)
            {
                break;
            }

            missing.Push(p);
        }

        var created = new List<string>(missing.Count);
        while (missing.TryPop(out var p))
        {
            try
            {
                await CreateAsync(p, ReadOnlyMemory<byte>.Empty, CreateMode.Persistent, acl, cancellationToken: cancellationToken).ConfigureAwait(false);
                created.Add(p);
            }
            catch (NodeExistsException)
            {
            }
        }

        return created;
    }

    /// <summary>Waits until the connected server has applied every update committed before the call (for read-after-write across clients).</summary>
    public Task SyncAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.Sync, path, w => w.WriteString(server), (err, _) => err == ZooKeeperErrorCode.Ok ? true : throw Error(err, path), cancellationToken);
    }

    /// <summary>Returns the node's ACL and stat.</summary>
    public Task<ZooKeeperAclResult> GetAclAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.GetAcl, path, w => w.WriteString(server), (err, body) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            var r = new JuteReader(body);
            var acl = r.ReadAcl();
            return new ZooKeeperAclResult(acl, r.ReadStat());
        }, cancellationToken);
    }

    /// <summary>Replaces the node's ACL if its ACL version matches (-1 = any) and returns the new stat.</summary>
    public Task<ZooKeeperStat> SetAclAsync(string path, IReadOnlyList<ZooKeeperAcl> acl, int aclVersion = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        ArgumentNullException.ThrowIfNull(acl);
        ValidateAcl(acl);
        ValidateVersion(aclVersion);
        var server = Prefix(path);
        return SendAsync(OpCode.SetAcl, path, w =>
        {
            w.WriteString(server);
            w.WriteAcl(acl);
            w.WriteInt(aclVersion);
        }, (err, body) => err == ZooKeeperErrorCode.Ok ? new JuteReader(body).ReadStat() : throw Error(err, path), cancellationToken);
    }

    /// <summary>
    /// Adds credentials to the session (e.g. scheme <c>digest</c>, auth <c>user:password</c>); they are re-sent after every
    /// reconnect. Completes when the server has accepted them.
    /// </summary>
    public async Task AddAuthAsync(string scheme, byte[] auth, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentNullException.ThrowIfNull(auth);
        if (scheme == "digest" && !System.Text.Encoding.UTF8.GetString(auth).Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("Digest credentials must be 'user:password'.", nameof(auth));
        }

        lock (_authInfos)
        {
            _authInfos.Add((scheme, auth));
        }

        await WaitForConnectedAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var conn = _connection;
        lock (_pendingAuth)
        {
            _pendingAuth.Enqueue(waiter);
        }

        if (conn is null || !conn.TrySendRaw(AuthFrame(scheme, auth)))
        {
            // The credentials are re-sent on the next connection.
            lock (_pendingAuth)
            {
                var rest = _pendingAuth.Where(t => t != waiter).ToList();
                _pendingAuth.Clear();
                rest.ForEach(_pendingAuth.Enqueue);
            }

            return;
        }

        await waiter.Task.WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
    }

    private void FailAuthWaiters(Exception ex)
    {
        lock (_pendingAuth)
        {
            while (_pendingAuth.TryDequeue(out var w))
            {
                w.TrySetException(ex);
            }
        }
    }

    /// <summary>Adds a persistent (or persistent recursive) watch that fires for every change until removed. Needs ZooKeeper 3.6+.</summary>
    public Task AddWatchAsync(string path, ZooKeeperWatcher watcher, AddWatchMode mode = AddWatchMode.Persistent, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        ArgumentNullException.ThrowIfNull(watcher);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"Unknown watch mode {(int)mode}.");
        }

        var server = Prefix(path);
        return SendAsync(OpCode.AddWatch, path, w =>
        {
            w.WriteString(server);
            w.WriteInt((int)mode);
        }, (err, _) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            _watches.AddPersistent(path, watcher, mode);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Removes watches of <paramref name="type"/> on <paramref name="path"/>: only <paramref name="watcher"/>'s, or all when it is null.
    /// The server is told once no local watcher of that type remains.
    /// </summary>
    /// <exception cref="ZooKeeperException">With code NoWatcher when no such watch was registered.</exception>
    public async Task RemoveWatchesAsync(string path, ZooKeeperWatcher? watcher, WatcherType type, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, $"Unknown watcher type {(int)type}.");
        }

        var remaining = _watches.Remove(path, watcher, type, out var removedAny);
        if (!removedAny)
        {
            throw new ZooKeeperException(ZooKeeperErrorCode.NoWatcher, path, $"No {type} watch is registered on '{path}'.");
        }

        if (remaining)
        {
            return;
        }

        var server = Prefix(path);
        var removed = await SendRemoveWatchesAsync(path, server, type, cancellationToken).ConfigureAwait(false);
        if (!removed && type is WatcherType.Persistent or WatcherType.PersistentRecursive)
        {
            // Servers before 3.9 only know Children/Data/Any: remove everything on the path, then re-arm the
            // one-shot watches other callers still hold locally.
            await SendRemoveWatchesAsync(path, server, WatcherType.Any, cancellationToken).ConfigureAwait(false);
            if (_watches.Has(path, WatcherType.Data))
            {
                await SendAsync(OpCode.Exists, path, PathAndWatch(server, true), (_, _) => true, cancellationToken).ConfigureAwait(false);
            }

            if (_watches.Has(path, WatcherType.Children))
            {
                await SendAsync(OpCode.GetChildren2, path, PathAndWatch(server, true), (_, _) => true, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Task<bool> SendRemoveWatchesAsync(string path, string server, WatcherType type, CancellationToken cancellationToken) =>
        SendAsync(OpCode.RemoveWatches, path, w =>
        {
            w.WriteString(server);
            w.WriteInt((int)type);
        }, (err, _) => err switch
        {
            ZooKeeperErrorCode.Ok or ZooKeeperErrorCode.NoWatcher => true,
            ZooKeeperErrorCode.MarshallingError or ZooKeeperErrorCode.BadArguments when type is WatcherType.Persistent or WatcherType.PersistentRecursive => false,
            _ => throw Error(err, path),
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="ops"/> atomically: all are applied or none. On failure throws the failed operation's typed
    /// exception with <see cref="ZooKeeperException.MultiResults"/> describing every operation.
    /// </summary>
    public Task<IReadOnlyList<ZooKeeperOpResult>> MultiAsync(IEnumerable<ZooKeeperOp> ops, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var list = ops.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("A multi needs at least one operation.", nameof(ops));
        }

        foreach (var op in list)
        {
            switch (op)
            {
                case ZooKeeperOp.CreateOp c:
                    ValidateCreate(c.Path, c.Data.Span, c.Mode, c.Acl, c.Ttl);
                    break;
                case ZooKeeperOp.DeleteOp d:
                    ZooKeeperPath.Validate(d.Path, nameof(ops));
                    ValidateVersion(d.Version);
                    break;
                case ZooKeeperOp.SetDataOp s:
                    ZooKeeperPath.Validate(s.Path, nameof(ops));
                    ValidateData(s.Data.Span, s.Path);
                    ValidateVersion(s.Version);
                    break;
                case ZooKeeperOp.CheckOp k:
                    ZooKeeperPath.Validate(k.Path, nameof(ops));
                    ValidateVersion(k.Version);
                    break;
                case null:
                    throw new ArgumentException("A multi operation is null.", nameof(ops));
                default:
                    throw new ArgumentException($"Unsupported multi operation {op.GetType().Name}.", nameof(ops));
            }
        }

        var first = list[0].Path;
        return SendAsync<IReadOnlyList<ZooKeeperOpResult>>(OpCode.Multi, first, w =>
        {
            foreach (var op in list)
            {
                switch (op)
                {
                    case ZooKeeperOp.CreateOp c:
                        var code = c.Mode.IsTtl() ? OpCode.CreateTtl : c.Mode == CreateMode.Container ? OpCode.CreateContainer : OpCode.Create2;
                        WriteMultiHeader(w, code);
                        w.WriteString(Prefix(c.Path));
                        w.WriteBuffer(c.Data.Span);
                        w.WriteAcl(c.Acl);
                        w.WriteInt((int)c.Mode);
                        if (c.Mode.IsTtl())
                        {
                            w.WriteLong(c.Ttl);
                        }

                        break;
                    case ZooKeeperOp.DeleteOp d:
                        WriteMultiHeader(w, OpCode.Delete);
                        w.WriteString(Prefix(d.Path));
                        w.WriteInt(d.Version);
                        break;
                    case ZooKeeperOp.SetDataOp s:
                        WriteMultiHeader(w, OpCode.SetData);
                        w.WriteString(Prefix(s.Path));
                        w.WriteBuffer(s.Data.Span);
                        w.WriteInt(s.Version);
                        break;
                    case ZooKeeperOp.CheckOp k:
                        WriteMultiHeader(w, OpCode.Check);
                        w.WriteString(Prefix(k.Path));
                        w.WriteInt(k.Version);
                        break;
                }
            }

            w.WriteInt(-1);
            w.WriteBool(true);
            w.WriteInt(-1);
        }, (err, body) =>
        {
            if (body.Length == 0)
            {
                throw Error(err == ZooKeeperErrorCode.Ok ? ZooKeeperErrorCode.MarshallingError : err, first);
            }

            var r = new JuteReader(body);
            var results = new List<ZooKeeperOpResult>(list.Count);
            while (true)
            {
                var type = (OpCode)r.ReadInt();
                var done = r.ReadBool();
                var opErr = (ZooKeeperErrorCode)r.ReadInt();
                if (done)
                {
                    break;
                }

                switch (type)
                {
                    case OpCode.Create:
                        results.Add(new ZooKeeperOpResult(ZooKeeperErrorCode.Ok, Strip(r.ReadString())));
                        break;
                    case OpCode.Create2:
                    case OpCode.CreateTtl:
                    case OpCode.CreateContainer:
                        results.Add(new ZooKeeperOpResult(ZooKeeperErrorCode.Ok, Strip(r.ReadString()), r.ReadStat()));
                        break;
                    case OpCode.SetData:
                        results.Add(new ZooKeeperOpResult(ZooKeeperErrorCode.Ok, null, r.ReadStat()));
                        break;
                    case OpCode.Delete:
                    case OpCode.Check:
                        results.Add(new ZooKeeperOpResult(ZooKeeperErrorCode.Ok));
                        break;
                    case OpCode.Error:
                        results.Add(new ZooKeeperOpResult((ZooKeeperErrorCode)r.ReadInt()));
                        break;
                    default:
                        throw new InvalidDataException($"Unexpected multi result type {type} (err {opErr}).");
                }
            }

            var failed = results.FindIndex(x => x.Error is not ZooKeeperErrorCode.Ok and not ZooKeeperErrorCode.RuntimeInconsistency);
            if (failed >= 0 || err != ZooKeeperErrorCode.Ok)
            {
                var code = failed >= 0 ? results[failed].Error : err;
                var path = failed >= 0 && failed < list.Count ? list[failed].Path : first;
                var ex = ZooKeeperException.Create(code, path, $"Multi failed at operation {failed} ({list[Math.Max(failed, 0)].GetType().Name.Replace("Op", string.Empty, StringComparison.Ordinal)} '{path}'): {code}; nothing was applied.");
                ex.MultiResults = results;
                throw ex;
            }

            return results;
        }, cancellationToken);
    }

    /// <summary>The body of exists / getData / getChildren2: the server path and the watch flag.</summary>
    private static Action<JuteWriter> PathAndWatch(string serverPath, bool watch) => w =>
    {
        w.WriteString(serverPath);
        w.WriteBool(watch);
    };

    private static void WriteMultiHeader(JuteWriter w, OpCode op)
    {
        w.WriteInt((int)op);
        w.WriteBool(false);
        w.WriteInt(-1);
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

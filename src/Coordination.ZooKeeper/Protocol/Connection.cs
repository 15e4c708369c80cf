using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Coordination.ZooKeeper.Protocol;

/// <summary>
/// One TCP connection of a session. Requests are registered by xid, then queued; whoever finds the writer
/// idle drains the queue into one socket write (pipelining with batching, no extra thread hop when idle).
/// One reader loop parses reply frames and hands them to the owner. When the socket fails, every request
/// still pending fails with ConnectionLoss and <see cref="Completion"/> resolves; a closed connection
/// refuses new requests so the caller can wait for the next one. With TLS the bytes go through an
/// <see cref="System.Net.Security.SslStream"/> set up per connection (every reconnect and failover does its own handshake).
/// </summary>
internal sealed class Connection
{
    private const int MaxFrame = 64 * 1024 * 1024;

    private readonly Stream _stream; // a NetworkStream over the socket, or an SslStream over that
    private readonly Dictionary<int, Request> _pending = [];
    private readonly ConcurrentQueue<Request?> _outgoing = new(); // null = raw frame in _rawFrames
    private readonly ConcurrentQueue<byte[]> _rawFrames = new();
    private readonly TaskCompletionSource<Exception?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _sendBuffer = new byte[16 * 1024];
    private int _writing;
    private bool _closed;

    private readonly ConcurrentQueue<long> _pingsInFlight = new();
    private long _lastAcknowledgedSend;

    private Connection(Stream stream, string server, long handshakeSent)
    {
        _stream = stream;
        Server = server;
        LastReceived = Stopwatch.GetTimestamp();
        LastSent = LastReceived;
        _lastAcknowledgedSend = handshakeSent;
    }

    public string Server { get; }

    public int NegotiatedTimeoutMs { get; private set; }

    public long SessionId { get; private set; }

    public byte[] Password { get; private set; } = [];

    public bool Expired { get; private set; }

    public long LastReceived { get; private set; }

    public long LastSent { get; private set; }

    /// <summary>
    /// <see cref="Stopwatch"/> timestamp at which the newest request that the server has answered was sent (pings and
    /// the handshake included). The server received that request no earlier, so it cannot expire the session before
    /// this moment plus the session timeout: the safe reference for "how long may we still trust the session".
    /// </summary>
    public long LastAcknowledgedSend => Interlocked.Read(ref _lastAcknowledgedSend);

    /// <summary>Records that the request sent at <paramref name="sentAt"/> was answered.</summary>
    public void Acknowledge(long sentAt)
    {
        long seen;
        while (sentAt > (seen = Interlocked.Read(ref _lastAcknowledgedSend)) && Interlocked.CompareExchange(ref _lastAcknowledgedSend, sentAt, seen) != seen)
        {
        }
    }

    /// <summary>Sends a ping, remembering when, so its reply can acknowledge that moment.</summary>
    public bool TrySendPing(byte[] frame)
    {
        _pingsInFlight.Enqueue(Stopwatch.GetTimestamp());
        return TrySendRaw(frame);
    }

    /// <summary>A ping reply arrived: the server answers pings in order, so it acknowledges the oldest one in flight.</summary>
    public void AcknowledgePing()
    {
        if (_pingsInFlight.TryDequeue(out var sentAt))
        {
            Acknowledge(sentAt);
        }
    }

    public Task<Exception?> Completion => _completion.Task;

    /// <summary>Replies still due to the auth packets sent on this connection, oldest first (guarded by the client).</summary>
    public Queue<TaskCompletionSource> PendingAuthReplies { get; } = new();

    public bool IsClosed
    {
        get
        {
            lock (_pending)
            {
                return _closed;
            }
        }
    }

    /// <summary>Connects (with the TLS handshake when <paramref name="tls"/> is given) and performs the session handshake (ConnectRequest/ConnectResponse).</summary>
    /// <exception cref="AuthenticationException">TLS: the server certificate was refused (the message says why).</exception>
    public static async Task<Connection> ConnectAsync(string host, int port, int sessionTimeoutMs, long sessionId, byte[]? password, long lastZxid, TimeSpan timeout, TlsClientSettings? tls, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        var server = $"ZooKeeper server {host}:{port}";
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            var handshakeSent = Stopwatch.GetTimestamp();
            try
            {
                await socket.ConnectAsync(host, port, cts.Token).ConfigureAwait(false);
                stream = new NetworkStream(socket, ownsSocket: true);
                if (tls is not null)
                {
                    stream = await tls.AuthenticateAsync(stream, host, server, cts.Token).ConfigureAwait(false);
                    handshakeSent = Stopwatch.GetTimestamp();
                }

                using (var w = new JuteWriter(64))
                {
                    w.WriteInt(0); // protocol version
                    w.WriteLong(lastZxid);
                    w.WriteInt(sessionTimeoutMs);
                    w.WriteLong(sessionId);
                    w.WriteBuffer(password ?? new byte[16]);
                    w.WriteBool(false); // read-only not allowed
                    w.Finish();
                    await stream.WriteAsync(w.Buffer.AsMemory(0, w.Length), cts.Token).ConfigureAwait(false);
                }

                var header = new byte[4];
                await ReceiveExactAsync(stream, header, server, tls, cts.Token).ConfigureAwait(false);
                var len = BinaryPrimitives.ReadInt32BigEndian(header);
                if (len is < 20 or > 4096)
                {
                    throw new InvalidDataException($"{server} sent a malformed handshake of {len} bytes{(tls is null ? " (is it a TLS port, such as a secureClientPort? Then enable TLS)" : string.Empty)}.");
                }

                var body = new byte[len];
                await ReceiveExactAsync(stream, body, server, tls, cts.Token).ConfigureAwait(false);
                var c = new Connection(stream, $"{host}:{port}", handshakeSent);
                c.ParseHandshake(body);
                return c;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Connecting to {server} took longer than {timeout}{(tls is null ? string.Empty : " (TLS handshake included)")}.");
            }
        }
        catch
        {
            if (stream is null)
            {
                socket.Dispose();
            }
            else
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private void ParseHandshake(byte[] body)
    {
        var r = new JuteReader(body);
        _ = r.ReadInt();
        var timeout = r.ReadInt();
        SessionId = r.ReadLong();
        Password = r.ReadBuffer() ?? [];
        NegotiatedTimeoutMs = timeout;
        Expired = timeout <= 0;
    }

    private static async Task ReceiveExactAsync(Stream stream, Memory<byte> buffer, string server, TlsClientSettings? tls, CancellationToken ct)
    {
        while (!buffer.IsEmpty)
        {
            int n;
            try
            {
                n = await stream.ReadAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new IOException($"{server} closed the connection during the session handshake: {ex.Message}{HandshakeHint(tls)}", ex);
            }

            if (n == 0)
            {
                throw new IOException($"{server} closed the connection during the session handshake{HandshakeHint(tls)}.");
            }

            buffer = buffer[n..];
        }
    }

    // A server that ends the connection right after the TLS handshake (TLS 1.3 checks the client certificate only then)
    // or at the first plain bytes (a TLS-only port) does so for a reason the client can only guess at.
    private static string HandshakeHint(TlsClientSettings? tls) => tls switch
    {
        null => " (if it is a TLS port, such as a secureClientPort, enable TLS)",
        { HasClientCertificate: false } => " (it may require a client certificate: ssl.clientAuth=need)",
        _ => " (it may not trust the client certificate)",
    };

    /// <summary>Starts the reader loop; <paramref name="onFrame"/> runs for every frame, in order.</summary>
    public void Start(FrameHandler onFrame) => _ = ReadLoopAsync(onFrame);

    public delegate void FrameHandler(Connection connection, ReadOnlySpan<byte> frame);

    /// <summary>
    /// Registers <paramref name="request"/> and sends it. False when the connection is already closed (nothing was sent).
    /// With <paramref name="flush"/> false the request only joins the queue: the caller sends it with <see cref="Flush"/>.
    /// </summary>
    public bool TrySend(Request request, int xid, bool flush = true)
    {
        lock (_pending)
        {
            if (_closed)
            {
                return false;
            }

            request.AssignXid(xid);
            _pending[xid] = request;
        }

        request.SentAt = Stopwatch.GetTimestamp();
        _outgoing.Enqueue(request);
        if (flush)
        {
            Kick();
        }

        return true;
    }

    /// <summary>Writes what is queued now, on this thread when the writer is idle (requests queued together leave in one write).</summary>
    public void Flush()
    {
        if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            _ = DrainAsync();
        }
    }

    /// <summary>Sends a frame whose reply is not matched by xid (ping, auth, setWatches, closeSession).</summary>
    public bool TrySendRaw(byte[] frame)
    {
        if (IsClosed)
        {
            return false;
        }

        _rawFrames.Enqueue(frame);
        _outgoing.Enqueue(null);
        Kick();
        return true;
    }

    public Request? TakePending(int xid)
    {
        lock (_pending)
        {
            return _pending.Remove(xid, out var r) ? r : null;
        }
    }

    /// <summary>Fails requests older than <paramref name="maxAgeTicks"/> with OperationTimeout.</summary>
    public void ExpireOld(long maxAgeTicks)
    {
        var now = Stopwatch.GetTimestamp();
        List<Request>? old = null;
        lock (_pending)
        {
            foreach (var (xid, r) in _pending)
            {
                if (now - r.SentAt > maxAgeTicks)
                {
                    (old ??= []).Add(r);
                }
            }

            if (old is not null)
            {
                foreach (var r in old)
                {
                    _pending.Remove(r.Xid);
                }
            }
        }

        if (old is not null)
        {
            foreach (var r in old)
            {
                r.Fail(new OperationTimeoutException(r.Path, $"ZooKeeper did not answer {r.Op} on '{r.Path}' in time (server {Server})."));
            }
        }
    }

    public int PendingCount
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    // A lone request is written inline (lowest latency). When others are in flight, replies arrive in bursts and
    // their continuations each send a request: the write is queued to the thread pool instead, so the requests
    // those continuations make meanwhile join one socket write. Against an instant server this cut the client's
    // CPU per pipelined request about 4x (one send syscall per batch instead of per request).
    private void Kick()
    {
        if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            if (_pending.Count > 1)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static c => _ = c.DrainAsync(), this, preferLocal: false);
            }
            else
            {
                _ = DrainAsync();
            }
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                var length = 0;
                while (length < 256 * 1024 && _outgoing.TryDequeue(out var item))
                {
                    if (item is null)
                    {
                        _rawFrames.TryDequeue(out var raw);
                        Append(raw!, raw!.Length, ref length);
                    }
                    else
                    {
                        Append(item.Frame, ref length);
                        item.ReleaseFrame();
                    }
                }

                if (length == 0)
                {
                    Volatile.Write(ref _writing, 0);
                    if (_outgoing.IsEmpty || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
                    {
                        return;
                    }

                    continue;
                }

                await _stream.WriteAsync(_sendBuffer.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
                LastSent = Stopwatch.GetTimestamp();
            }
        }
        catch (Exception ex)
        {
            Close(ex);
            while (_outgoing.TryDequeue(out var item))
            {
                item?.ReleaseFrame();
            }
        }
    }

    private void Append(byte[] frame, int count, ref int length) => Append(frame.AsSpan(0, count), ref length);

    private void Append(ReadOnlySpan<byte> frame, ref int length)
    {
        if (length + frame.Length > _sendBuffer.Length)
        {
            Array.Resize(ref _sendBuffer, Math.Max(_sendBuffer.Length * 2, length + frame.Length));
        }

        frame.CopyTo(_sendBuffer.AsSpan(length));
        length += frame.Length;
    }

    private async Task ReadLoopAsync(FrameHandler onFrame)
    {
        var buffer = new byte[64 * 1024];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        start = 0;
                    }
                    else
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                }

                var n = await _stream.ReadAsync(buffer.AsMemory(end), CancellationToken.None).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"ZooKeeper server {Server} closed the connection.");
                }

                LastReceived = Stopwatch.GetTimestamp();
                end += n;
                while (end - start >= 4)
                {
                    var len = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start));
                    if (len is < 0 or > MaxFrame)
                    {
                        throw new InvalidDataException($"ZooKeeper server {Server} sent a frame of {len} bytes.");
                    }

                    if (end - start - 4 < len)
                    {
                        if (start + 4 + len > buffer.Length)
                        {
                            var bigger = new byte[Math.Max(buffer.Length, 4 + len)];
                            Buffer.BlockCopy(buffer, start, bigger, 0, end - start);
                            end -= start;
                            start = 0;
                            buffer = bigger;
                        }

                        break;
                    }

                    onFrame(this, buffer.AsSpan(start + 4, len));
                    start += 4 + len;
                }

                if (start == end)
                {
                    start = end = 0;
                }
            }
        }
        catch (Exception ex)
        {
            Close(ex);
        }
    }

    /// <summary>Closes the socket and fails every pending request with ConnectionLoss.</summary>
    public void Close(Exception? reason)
    {
        List<Request> failed;
        lock (_pending)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            failed = [.. _pending.Values];
            _pending.Clear();
        }

        try
        {
            _stream.Dispose();
        }
        catch (Exception ex) when (ex is ObjectDisposedException or IOException)
        {
            // an SslStream may try to send close_notify on a broken socket
        }

        foreach (var r in failed)
        {
            r.Fail(new ConnectionLossException(r.Path, $"The connection to ZooKeeper server {Server} was lost before {r.Op} on '{r.Path}' was answered; it may or may not have been applied.", reason));
        }

        _completion.TrySetResult(reason);
    }
}

using System.Diagnostics;
using Coordination.ZooKeeper.Protocol;
using Microsoft.Extensions.Logging;

namespace Coordination.ZooKeeper;

/// <content>The session: connecting and re-attaching, pings, state changes, the event thread and incoming frames.</content>
public sealed partial class ZooKeeperClient
{
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
                conn = await Connection.ConnectAsync(host, port, (int)_options.SessionTimeout.TotalMilliseconds, Interlocked.Read(ref _sessionId), _password, Interlocked.Read(ref _lastZxid), _options.ConnectTimeout, _tls, ct).ConfigureAwait(false);
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

                RecordFailure($"{host}:{port}", ex);
                OnAttemptFailed();
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
            Volatile.Write(ref _securityFailures, 0);
            Volatile.Write(ref _lastConnectionError, null);
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
                    var failure = new ZooKeeperException(ZooKeeperErrorCode.SystemError, _connectionString.Chroot, $"Creating the chroot '{_connectionString.Chroot}' on {conn.Server} failed: {ex.Message}", ex);
                    RecordFailure(conn.Server, failure);
                    conn.Close(ex);
                    OnAttemptFailed();
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

    /// <summary>Remembers why an attempt failed; a refused server certificate is logged as an error (once per cause).</summary>
    private void RecordFailure(string server, Exception ex)
    {
        var previous = Interlocked.Exchange(ref _lastConnectionError, ex);
        if (ex is System.Security.Authentication.AuthenticationException)
        {
            Volatile.Write(ref _lastSecurityFailure, ex);
            Interlocked.Increment(ref _securityFailures);
            if (previous?.Message != ex.Message)
            {
                Log.CertificateRefused(_logger, server, ex.Message);
                return;
            }
        }
        else
        {
            Volatile.Write(ref _securityFailures, 0);
        }

        Log.ConnectFailed(_logger, server, ex);
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
            foreach (var entry in _authInfos)
            {
                Send(conn, entry);
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
            var op = new ZooKeeperOp.CreateOp(p, ReadOnlyMemory<byte>.Empty, CreateMode.Persistent, AclOrDefault(null), 0);
            var req = new Request<bool>(op.Code, p, Frame(op.Code, w => op.Write(w, p)), (err, _) => err is ZooKeeperErrorCode.Ok or ZooKeeperErrorCode.NodeExists ? true : throw ZooKeeperException.Create(err, p));
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
        var ev = new WatchedEvent(WatchEventType.None, WatchedEventState.Expired, null);
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
                var state = (WatchedEventState)r.ReadInt();
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
                lock (_authInfos)
                {
                    conn.PendingAuthReplies.TryDequeue(out waiter);
                }

                if (err == ZooKeeperErrorCode.AuthFailed)
                {
                    Log.AuthFailed(_logger, conn.Server);
                    var failed = new ZooKeeperException(ZooKeeperErrorCode.AuthFailed, null, $"ZooKeeper server {conn.Server} rejected the session's credentials (AuthFailed).");
                    Volatile.Write(ref _lastConnectionError, failed);
                    if (waiter?.TrySetException(failed) == true)
                    {
                        _ = waiter.Task.Exception; // observed
                    }

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
}

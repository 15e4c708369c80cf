using System.Diagnostics;
using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <content>Request plumbing: xids, frames, chroot paths, sending when connected, validation.</content>
public sealed partial class ZooKeeperClient
{
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
        var w = BeginFrame(op);
        body(w);
        w.Finish();
        return w;
    }

    /// <summary>A frame with its header written; the caller writes the body and calls <see cref="JuteWriter.Finish"/>.</summary>
    private static JuteWriter BeginFrame(OpCode op)
    {
        var w = new JuteWriter();
        w.WriteInt(0); // xid, patched when sent
        w.WriteInt((int)op);
        return w;
    }

    private string Prefix(string path)
    {
        var chroot = _connectionString.Chroot;
        return chroot is null ? path : path == "/" ? chroot : chroot + path;
    }

    internal string? Strip(string? serverPath)
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

    /// <summary>
    /// Holds back the socket write of the requests this thread starts until the returned scope is disposed, then
    /// writes them in one go, in call order (see <see cref="SendBatch"/>). Do not await inside the scope.
    /// </summary>
    internal static SendBatch BatchSends() => SendBatch.Begin();

    // Hot path without an async state machine: when connected, the request's own task is returned (plus a
    // cancellation registration only when the token can cancel); otherwise the slow path waits for a connection.
    private Task<T> SendAsync<T>(OpCode op, string path, Action<JuteWriter> body, ResponseParser<T> parser, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        return SendAsync(new Request<T>(op, path, Checked(Frame(op, body), op, path), parser), cancellationToken);
    }

    /// <summary>Sends a request whose <paramref name="frame"/> (from <see cref="BeginFrame"/>) is written; no closure per call.</summary>
    private Task<T> SendAsync<T>(OpCode op, string path, JuteWriter frame, RequestParser<T> parser, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            frame.Dispose();
            return Task.FromCanceled<T>(cancellationToken);
        }

        frame.Finish();
        return SendAsync(new Request<T>(op, path, Checked(frame, op, path), parser, this), cancellationToken);
    }

    private static JuteWriter Checked(JuteWriter frame, OpCode op, string path)
    {
        if (frame.Length - 4 > MaxRequestLength)
        {
            var size = frame.Length - 4;
            frame.Dispose();
            throw new ArgumentException(
                $"The {op} request for '{path}' is {size} bytes serialized; ZooKeeper accepts at most {MaxRequestLength} bytes per request (jute.maxbuffer), path, ACL and headers included. Send less data.",
                op == OpCode.Multi ? "ops" : "data");
        }

        return frame;
    }

    private Task<T> SendAsync<T>(Request<T> request, CancellationToken cancellationToken)
    {
        Connection? conn;
        lock (_stateGate)
        {
            conn = _state == ZooKeeperState.Connected ? _connection : null;
        }

        if (conn is not null && conn.TrySend(request, NextXid(), flush: !SendBatch.Hold(conn)))
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
        var deadline = Deadline.After(_options.OperationTimeout);
        try
        {
            while (true)
            {
                Connection? conn;
                lock (_stateGate)
                {
                    ThrowIfTerminal(path);
                    conn = _state == ZooKeeperState.Connected ? _connection : null;
                }

                if (conn is not null && conn.TrySend(request, NextXid()))
                {
                    break;
                }

                if (deadline.HasPassed)
                {
                    throw new ConnectionLossException(path, $"No ZooKeeper server of '{_connectionString}' could be reached within {_options.OperationTimeout} for {op} on '{path}'{LastErrorSuffix()}.", LastConnectionError);
                }

                // The session's own wait: a blip is waited out, servers known gone (UnavailableAfter) fail at once.
                try
                {
                    await WaitForSessionCoreAsync(_options.UnavailableAfter, deadline.Remaining, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // loop: the deadline check reports ConnectionLoss
                }
                catch (ConnectionLossException ex)
                {
                    // servers known gone (UnavailableAfter) or every server's certificate refused
                    var bound = ex.InnerException is System.Security.Authentication.AuthenticationException ? string.Empty : $" UnavailableAfter {_options.UnavailableAfter}:";
                    throw new ConnectionLossException(path, $"{ex.Message}{bound} {op} on '{path}' was not sent.", ex);
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

    internal static void ValidateAcl(IReadOnlyList<ZooKeeperAcl> acl, string parameter = "acl")
    {
        if (acl.Count == 0)
        {
            throw new ArgumentException("An ACL must have at least one entry (use ZooKeeperAcl.OpenUnsafe for world:anyone).", parameter);
        }

        foreach (var a in acl)
        {
            if (a is null || string.IsNullOrEmpty(a.Scheme))
            {
                throw new ArgumentException($"ACL entry '{a}' has no scheme.", parameter);
            }
        }
    }

    /// <summary>The ACL of a create that gives none: the client's default, else world:anyone with all permissions.</summary>
    private IReadOnlyList<ZooKeeperAcl> AclOrDefault(IReadOnlyList<ZooKeeperAcl>? acl) => acl ?? _options.DefaultAcl ?? ZooKeeperAcl.OpenUnsafe;

    internal static ZooKeeperException Error(ZooKeeperErrorCode err, string path) => ZooKeeperException.Create(err, path);

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
}

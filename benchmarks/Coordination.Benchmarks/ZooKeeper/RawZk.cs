using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Coordination.Benchmarks.ZooKeeper;

/// <summary>
/// The floor: the least a client can do. One socket, the session handshake, then one request at a time with
/// hand-written jute into one reused buffer and the reply read into another; no pipelining, no xid table, no
/// tasks, no watches. Async methods await the socket's ValueTasks directly (the same kind of I/O an async
/// client does); the synchronous ones block on the socket (no thread-pool hop at all).
/// </summary>
internal sealed class RawZk : IDisposable
{
    private const int Create2 = 15;
    private const int Exists = 3;
    private const int Delete = 2;
    private const int GetChildren2 = 12;
    private const int EphemeralSequential = 3;

    private readonly Socket _socket;
    private readonly byte[] _out = new byte[4096];
    private byte[] _in = new byte[4096];
    private int _xid;

    private RawZk(Socket socket) => _socket = socket;

    public long SessionId { get; private set; }

    public static async Task<RawZk> ConnectAsync(string server, int sessionTimeoutMs = 60_000)
    {
        var colon = server.LastIndexOf(':');
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server[..colon], int.Parse(server[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var zk = new RawZk(socket);
        var b = zk._out.AsSpan(4);
        BinaryPrimitives.WriteInt32BigEndian(b, 0); // protocolVersion
        BinaryPrimitives.WriteInt64BigEndian(b[4..], 0); // lastZxidSeen
        BinaryPrimitives.WriteInt32BigEndian(b[12..], sessionTimeoutMs);
        BinaryPrimitives.WriteInt64BigEndian(b[16..], 0); // sessionId
        BinaryPrimitives.WriteInt32BigEndian(b[24..], 16); // passwd
        b.Slice(28, 16).Clear();
        b[44] = 0; // readOnly
        var length = zk.Finish(4 + 45);
        var reply = await zk.RoundTripAsync(length);
        zk.SessionId = BinaryPrimitives.ReadInt64BigEndian(zk._in.AsSpan(12, reply - 8)); // after length, protocolVersion, timeOut
        return zk;
    }

    // ------------------------------------------------------------ requests (body written after a 4-byte length)

    private int Header(int op)
    {
        BinaryPrimitives.WriteInt32BigEndian(_out.AsSpan(4), ++_xid);
        BinaryPrimitives.WriteInt32BigEndian(_out.AsSpan(8), op);
        return 12;
    }

    private int WriteString(int at, string s)
    {
        var n = Encoding.UTF8.GetBytes(s, _out.AsSpan(at + 4));
        BinaryPrimitives.WriteInt32BigEndian(_out.AsSpan(at), n);
        return at + 4 + n;
    }

    private int WriteInt(int at, int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_out.AsSpan(at), value);
        return at + 4;
    }

    private int Finish(int length)
    {
        BinaryPrimitives.WriteInt32BigEndian(_out, length - 4);
        return length;
    }

    private int ExistsFrame(string path)
    {
        var at = WriteString(Header(Exists), path);
        _out[at] = 0; // watch
        return Finish(at + 1);
    }

    private int CreateFrame(string path)
    {
        var at = WriteString(Header(Create2), path);
        at = WriteInt(at, 0); // data: empty
        at = WriteInt(at, 1); // acl: world:anyone, all
        at = WriteInt(at, 31);
        at = WriteString(at, "world");
        at = WriteString(at, "anyone");
        return Finish(WriteInt(at, EphemeralSequential));
    }

    private int CreatePersistentFrame(string path)
    {
        var at = WriteString(Header(Create2), path);
        at = WriteInt(at, 0);
        at = WriteInt(at, 1);
        at = WriteInt(at, 31);
        at = WriteString(at, "world");
        at = WriteString(at, "anyone");
        return Finish(WriteInt(at, 0));
    }

    private int GetChildren2Frame(string path)
    {
        var at = WriteString(Header(GetChildren2), path);
        _out[at] = 0; // watch
        return Finish(at + 1);
    }

    private int DeleteFrame(string path) => Finish(WriteInt(WriteString(Header(Delete), path), -1));

    // ------------------------------------------------------------ replies: xid, zxid, err, body

    private int Error => BinaryPrimitives.ReadInt32BigEndian(_in.AsSpan(16)); // after length, xid, zxid

    private string CreatedPath()
    {
        var n = BinaryPrimitives.ReadInt32BigEndian(_in.AsSpan(20));
        return Encoding.UTF8.GetString(_in, 24, n);
    }

    private void Check(string op, string path, params int[] allowed)
    {
        var err = Error;
        if (err != 0 && Array.IndexOf(allowed, err) < 0)
        {
            throw new InvalidOperationException($"{op} '{path}' failed with ZooKeeper error {err}.");
        }
    }

    public async ValueTask<bool> ExistsAsync(string path)
    {
        await RoundTripAsync(ExistsFrame(path));
        Check("exists", path, -101);
        return Error == 0;
    }

    public async ValueTask<string> CreateEphemeralSequentialAsync(string path)
    {
        await RoundTripAsync(CreateFrame(path));
        Check("create", path);
        return CreatedPath();
    }

    /// <summary>Creates a persistent node unless it exists (for benchmark set-up).</summary>
    public async ValueTask CreatePersistentIfMissingAsync(string path)
    {
        await RoundTripAsync(CreatePersistentFrame(path));
        Check("create", path, -110);
    }

    /// <summary>getChildren2 (the lock's "am I first?" read); returns the number of children.</summary>
    public async ValueTask<int> GetChildrenCountAsync(string path)
    {
        await RoundTripAsync(GetChildren2Frame(path));
        Check("getChildren", path);
        return BinaryPrimitives.ReadInt32BigEndian(_in.AsSpan(20));
    }

    public async ValueTask DeleteAsync(string path)
    {
        await RoundTripAsync(DeleteFrame(path));
        Check("delete", path);
    }

    public bool ExistsSync(string path)
    {
        RoundTrip(ExistsFrame(path));
        Check("exists", path, -101);
        return Error == 0;
    }

    public string CreateEphemeralSequentialSync(string path)
    {
        RoundTrip(CreateFrame(path));
        Check("create", path);
        return CreatedPath();
    }

    public void DeleteSync(string path)
    {
        RoundTrip(DeleteFrame(path));
        Check("delete", path);
    }

    /// <summary>
    /// The server's ceiling for one connection: keeps <paramref name="window"/> exists requests in flight for
    /// <paramref name="duration"/> (each batch of replies read is answered by as many new requests in one send)
    /// and returns the replies per second. Not a client design: no xid matching, no error handling.
    /// </summary>
    public async Task<double> ExistsWindowAsync(string path, int window, TimeSpan duration)
    {
        var one = ExistsFrame(path);
        var frames = new byte[one * window];
        for (var i = 0; i < window; i++)
        {
            _out.AsSpan(0, one).CopyTo(frames.AsSpan(i * one));
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        await SendAllAsync(frames.AsMemory());
        long inFlight = window, replies = 0;
        int have = 0, start = 0;
        while (inFlight > 0)
        {
            var n = await _socket.ReceiveAsync(_in.AsMemory(have), SocketFlags.None);
            have += n > 0 ? n : throw new IOException("ZooKeeper closed the connection.");
            var got = 0;
            while (have - start >= 4 && have - start >= 4 + BinaryPrimitives.ReadInt32BigEndian(_in.AsSpan(start)))
            {
                start += 4 + BinaryPrimitives.ReadInt32BigEndian(_in.AsSpan(start));
                got++;
            }

            replies += got;
            inFlight -= got;
            if (got > 0 && sw.Elapsed < duration)
            {
                await SendAllAsync(frames.AsMemory(0, one * got));
                inFlight += got;
            }

            if (start == have)
            {
                start = have = 0;
            }
            else if (have == _in.Length)
            {
                _in.AsSpan(start, have - start).CopyTo(_in);
                have -= start;
                start = 0;
            }
        }

        return replies / sw.Elapsed.TotalSeconds;
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[await _socket.SendAsync(data, SocketFlags.None)..];
        }
    }

    /// <summary>Sends <c>_out[0..length]</c> and reads one reply frame into <c>_in[4..]</c>; returns the reply length.</summary>
    private async ValueTask<int> RoundTripAsync(int length)
    {
        for (var sent = 0; sent < length;)
        {
            sent += await _socket.SendAsync(_out.AsMemory(sent, length - sent), SocketFlags.None);
        }

        var have = 0;
        while (true)
        {
            if (have >= 4)
            {
                var frame = BinaryPrimitives.ReadInt32BigEndian(_in);
                if (have >= 4 + frame)
                {
                    return frame;
                }

                if (4 + frame > _in.Length)
                {
                    Array.Resize(ref _in, 4 + frame);
                }
            }

            var n = await _socket.ReceiveAsync(_in.AsMemory(have), SocketFlags.None);
            have += n > 0 ? n : throw new IOException("ZooKeeper closed the connection.");
        }
    }

    private int RoundTrip(int length)
    {
        for (var sent = 0; sent < length;)
        {
            sent += _socket.Send(_out, sent, length - sent, SocketFlags.None);
        }

        var have = 0;
        while (true)
        {
            if (have >= 4)
            {
                var frame = BinaryPrimitives.ReadInt32BigEndian(_in);
                if (have >= 4 + frame)
                {
                    return frame;
                }

                if (4 + frame > _in.Length)
                {
                    Array.Resize(ref _in, 4 + frame);
                }
            }

            var n = _socket.Receive(_in, have, _in.Length - have, SocketFlags.None);
            have += n > 0 ? n : throw new IOException("ZooKeeper closed the connection.");
        }
    }

    /// <summary>Sends closeSession (the server deletes this session's ephemerals at once) and closes the socket.</summary>
    public void Dispose()
    {
        try
        {
            RoundTrip(Finish(Header(-11)));
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }
}

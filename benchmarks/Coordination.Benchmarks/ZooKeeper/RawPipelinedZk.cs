using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Coordination.Benchmarks.ZooKeeper;

/// <summary>
/// The pipelined floor: the least a client can do to run the lock's ZooKeeper requests for many callers on one
/// connection. Callers write hand-encoded frames under one lock (so frames leave in call order, several per write when
/// a caller sends a pair), replies are matched in order (the server answers a session in request order), and each
/// reply completes its caller inline on the one reader loop: no xid table, no watches, no reconnects, no thread hop.
/// Not a client design, a yardstick: "create + getChildren in one write, then delete" at the server's pace.
/// </summary>
internal sealed class RawPipelinedZk : IAsyncDisposable
{
    private const int Create2 = 15;
    private const int GetChildren2 = 12;
    private const int Delete = 2;
    private const int EphemeralSequential = 3;

    private readonly Socket _socket;
    private readonly object _sendLock = new();
    private readonly Queue<(int Op, TaskCompletionSource<string?> Done)> _pending = new();
    private readonly Task _reader;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _known = new(StringComparer.Ordinal);
    private int _xid;

    private RawPipelinedZk(Socket socket)
    {
        _socket = socket;
        _reader = Task.Run(ReadLoopAsync);
    }

    public static async Task<RawPipelinedZk> ConnectAsync(string server)
    {
        // The handshake is RawZk's; the socket is then handed over.
        var colon = server.LastIndexOf(':');
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server[..colon], int.Parse(server[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var hello = new byte[4 + 45];
        BinaryPrimitives.WriteInt32BigEndian(hello, 45);
        BinaryPrimitives.WriteInt32BigEndian(hello.AsSpan(16), 60_000); // protocol 0, lastZxid 0, timeout 60 s
        BinaryPrimitives.WriteInt32BigEndian(hello.AsSpan(28), 16); // session 0, 16-byte empty password, not read-only
        await socket.SendAsync(hello, SocketFlags.None);
        var lengthBytes = new byte[4];
        await ReceiveExactlyAsync(socket, lengthBytes);
        await ReceiveExactlyAsync(socket, new byte[BinaryPrimitives.ReadInt32BigEndian(lengthBytes)]);
        return new RawPipelinedZk(socket);
    }

    /// <summary>Creates a persistent node unless it exists.</summary>
    public async Task EnsureAsync(string path)
    {
        var buffer = new byte[256];
        var length = WriteCreate(buffer, 0, path, mode: 0);
        var (done, _) = Send(buffer.AsSpan(0, length), (Create2, null));
        try
        {
            await done;
        }
        catch (InvalidOperationException ex) when (ex.Message.EndsWith("-110.", StringComparison.Ordinal))
        {
        }
    }

    /// <summary>Creates <paramref name="dir"/> (persistent) the first time it is asked for.</summary>
    public ValueTask EnsureKnownAsync(string dir) => _known.ContainsKey(dir) ? ValueTask.CompletedTask : new(EnsureThenRememberAsync(dir));

    private async Task EnsureThenRememberAsync(string dir)
    {
        await EnsureAsync(dir);
        _known[dir] = 0;
    }

    /// <summary>The lock's entry: create (ephemeral-sequential) and getChildren in one write; returns the node's path.</summary>
    public async Task<string> EnterAsync(string nodePrefix, string dir)
    {
        var (create, look) = Send((Create2, GetChildren2), (b, at) => WriteGetChildren(b, WriteCreate(b, at, nodePrefix, EphemeralSequential), dir));
        var node = await create;
        await look;
        return node!;
    }

    /// <summary>Only the create (for the variant that reads the queue after the create's reply).</summary>
    public async Task<string> CreateAsync(string nodePrefix) =>
        (await Send((Create2, null), (b, at) => WriteCreate(b, at, nodePrefix, EphemeralSequential)).First)!;

    public Task GetChildrenAsync(string dir) => Send((GetChildren2, null), (b, at) => WriteGetChildren(b, at, dir)).First;

    public Task DeleteAsync(string path) => Send((Delete, null), (b, at) => WriteDelete(b, at, path)).First;

    /// <summary>Writes the frames of <paramref name="ops"/> with <paramref name="write"/> into a pooled buffer and sends them in one write.</summary>
    private (Task<string?> First, Task<string?> Second) Send((int First, int? Second) ops, Func<byte[], int, int> write)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            return Send(buffer.AsSpan(0, write(buffer, 0)), ops);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private (Task<string?> First, Task<string?> Second) Send(ReadOnlySpan<byte> frames, (int First, int? Second) ops)
    {
        // Inline completion: the reader loop runs the caller's next step (its next send) at once.
        var first = new TaskCompletionSource<string?>(TaskCreationOptions.None);
        var second = ops.Second is null ? null : new TaskCompletionSource<string?>(TaskCreationOptions.None);
        lock (_sendLock)
        {
            _pending.Enqueue((ops.First, first));
            if (second is not null)
            {
                _pending.Enqueue((ops.Second!.Value, second));
            }

            while (!frames.IsEmpty)
            {
                frames = frames[_socket.Send(frames, SocketFlags.None)..];
            }
        }

        return (first.Task, second?.Task ?? Task.FromResult<string?>(null));
    }

    private int Header(byte[] b, int at, int op)
    {
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(at + 4), Interlocked.Increment(ref _xid));
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(at + 8), op);
        return at + 12;
    }

    private static int String(byte[] b, int at, string s)
    {
        var n = Encoding.UTF8.GetBytes(s, b.AsSpan(at + 4));
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(at), n);
        return at + 4 + n;
    }

    private static int Int(byte[] b, int at, int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(at), value);
        return at + 4;
    }

    private static int Finish(byte[] b, int start, int end)
    {
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(start), end - start - 4);
        return end;
    }

    private int WriteCreate(byte[] b, int start, string path, int mode)
    {
        var at = String(b, Header(b, start, Create2), path);
        at = Int(b, at, 0); // no data
        at = Int(b, at, 1); // ACL world:anyone all
        at = Int(b, at, 31);
        at = String(b, at, "world");
        at = String(b, at, "anyone");
        return Finish(b, start, Int(b, at, mode));
    }

    private int WriteGetChildren(byte[] b, int start, string path)
    {
        var at = String(b, Header(b, start, GetChildren2), path);
        b[at] = 0; // no watch
        return Finish(b, start, at + 1);
    }

    private int WriteDelete(byte[] b, int start, string path) => Finish(b, start, Int(b, String(b, Header(b, start, Delete), path), -1));

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        int have = 0, start = 0;
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None);
                if (n == 0)
                {
                    throw new IOException("ZooKeeper closed the connection.");
                }

                have += n;
                while (have - start >= 4 && have - start >= 4 + BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start)))
                {
                    var length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start));
                    var frame = buffer.AsSpan(start + 4, length);
                    start += 4 + length;
                    if (BinaryPrimitives.ReadInt32BigEndian(frame) < 0)
                    {
                        continue; // a watch event or a ping reply
                    }

                    (int Op, TaskCompletionSource<string?> Done) next;
                    lock (_sendLock)
                    {
                        next = _pending.Dequeue();
                    }

                    var err = BinaryPrimitives.ReadInt32BigEndian(frame[12..]);
                    if (err != 0)
                    {
                        next.Done.TrySetException(new InvalidOperationException($"ZooKeeper op {next.Op} failed with error {err}."));
                    }
                    else if (next.Op == Create2)
                    {
                        var pathLength = BinaryPrimitives.ReadInt32BigEndian(frame[16..]);
                        next.Done.TrySetResult(Encoding.UTF8.GetString(frame.Slice(20, pathLength)));
                    }
                    else
                    {
                        next.Done.TrySetResult(null);
                    }
                }

                if (start == have)
                {
                    start = have = 0;
                }
                else if (have == buffer.Length)
                {
                    buffer.AsSpan(start, have - start).CopyTo(buffer);
                    have -= start;
                    start = 0;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            lock (_sendLock)
            {
                while (_pending.TryDequeue(out var p))
                {
                    p.Done.TrySetException(ex);
                }
            }
        }
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] into)
    {
        for (var have = 0; have < into.Length;)
        {
            var n = await socket.ReceiveAsync(into.AsMemory(have), SocketFlags.None);
            have += n > 0 ? n : throw new IOException("ZooKeeper closed the connection during the handshake.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose(); // the server drops the session's ephemeral nodes when it times out; benchmark roots are unique
        try
        {
            await _reader;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
        }
    }
}

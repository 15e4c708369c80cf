using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Coordination.Benchmarks.ZooKeeper;

/// <summary>
/// <c>zk-fake-server --port N</c>: a stand-in ZooKeeper that answers instantly (handshake, ping, exists, create2,
/// delete, closeSession; anything else gets Unimplemented), every reply of one read written in one send. Run it
/// in its own process and point <c>zk-latency --zk</c> at it to measure the client's own cost and its pipelining
/// ceiling without the real server's work. Not a ZooKeeper: no state, every exists finds a node.
/// </summary>
internal static class FakeZkServer
{
    private const int StatLength = 68;

    public static async Task<int> RunAsync(string[] argv)
    {
        var port = new Args(argv).GetInt("port", 2399);
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        Console.WriteLine($"fake ZooKeeper listening on 127.0.0.1:{port}; Ctrl+C to stop");
        long session = 0x1000;
        while (true)
        {
            var socket = await listener.AcceptSocketAsync();
            socket.NoDelay = true;
            _ = ServeAsync(socket, Interlocked.Increment(ref session));
        }
    }

    private static async Task ServeAsync(Socket socket, long sessionId)
    {
        var input = new byte[256 * 1024];
        var output = new byte[4 * 1024 * 1024]; // replies of one full input buffer fit
        int have = 0, start = 0;
        var handshaken = false;
        long zxid = 1, sequence = 0;
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(input.AsMemory(have), SocketFlags.None);
                if (n == 0)
                {
                    return;
                }

                have += n;
                var outLength = 0;
                var close = false;
                while (have - start >= 4 && have - start >= 4 + BinaryPrimitives.ReadInt32BigEndian(input.AsSpan(start)))
                {
                    var length = BinaryPrimitives.ReadInt32BigEndian(input.AsSpan(start));
                    var frame = input.AsSpan(start + 4, length);
                    start += 4 + length;
                    var reply = output.AsSpan(outLength + 4);
                    int replyLength;
                    if (!handshaken)
                    {
                        handshaken = true;
                        BinaryPrimitives.WriteInt32BigEndian(reply, 0);
                        BinaryPrimitives.WriteInt32BigEndian(reply[4..], BinaryPrimitives.ReadInt32BigEndian(frame[12..]));
                        BinaryPrimitives.WriteInt64BigEndian(reply[8..], sessionId);
                        BinaryPrimitives.WriteInt32BigEndian(reply[16..], 16);
                        reply.Slice(20, 16).Clear();
                        reply[36] = 0;
                        replyLength = 37;
                    }
                    else
                    {
                        var xid = BinaryPrimitives.ReadInt32BigEndian(frame);
                        var op = BinaryPrimitives.ReadInt32BigEndian(frame[4..]);
                        BinaryPrimitives.WriteInt32BigEndian(reply, xid);
                        BinaryPrimitives.WriteInt64BigEndian(reply[4..], op is 15 or 2 ? ++zxid : zxid);
                        BinaryPrimitives.WriteInt32BigEndian(reply[12..], 0);
                        replyLength = 16;
                        switch (op)
                        {
                            case 3: // exists
                                reply.Slice(16, StatLength).Clear();
                                replyLength += StatLength;
                                break;
                            case 15: // create2: the path plus a sequence, then a stat
                                var pathLength = BinaryPrimitives.ReadInt32BigEndian(frame[8..]);
                                var created = Encoding.UTF8.GetString(frame.Slice(12, pathLength)) + (++sequence).ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
                                var bytes = Encoding.UTF8.GetBytes(created, reply[20..]);
                                BinaryPrimitives.WriteInt32BigEndian(reply[16..], bytes);
                                reply.Slice(20 + bytes, StatLength).Clear();
                                replyLength += 4 + bytes + StatLength;
                                break;
                            case 2 or 11: // delete, ping
                                break;
                            case -11: // closeSession
                                close = true;
                                break;
                            default:
                                BinaryPrimitives.WriteInt32BigEndian(reply[12..], -6); // Unimplemented
                                break;
                        }
                    }

                    BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(outLength), replyLength);
                    outLength += 4 + replyLength;
                }

                if (start == have)
                {
                    start = have = 0;
                }
                else if (have == input.Length)
                {
                    input.AsSpan(start, have - start).CopyTo(input);
                    have -= start;
                    start = 0;
                }

                for (var sent = 0; sent < outLength;)
                {
                    sent += await socket.SendAsync(output.AsMemory(sent, outLength - sent), SocketFlags.None);
                }

                if (close)
                {
                    return;
                }
            }
        }
        catch (SocketException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }
}

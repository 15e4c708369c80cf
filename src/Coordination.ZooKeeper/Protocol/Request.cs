using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;

namespace Coordination.ZooKeeper.Protocol;

/// <summary>Parses a reply (error code + body) into a result, or throws the operation's exception.</summary>
internal delegate T ResponseParser<T>(ZooKeeperErrorCode error, ReadOnlySpan<byte> body);

/// <summary>
/// As <see cref="ResponseParser{T}"/>, given the request (its path and client): one static parser serves every call,
/// where a <see cref="ResponseParser{T}"/> capturing the path costs a closure and a delegate per request.
/// </summary>
internal delegate T RequestParser<T>(Request<T> request, ZooKeeperErrorCode error, ReadOnlySpan<byte> body);

/// <summary>An outstanding request: its serialized frame and the completion the reply resolves.</summary>
internal abstract class Request
{
    private byte[]? _frame;

    protected Request(OpCode op, string? path, JuteWriter frame)
    {
        Op = op;
        Path = path;
        _frame = frame.Buffer;
        FrameLength = frame.Length;
    }

    public OpCode Op { get; }

    public string? Path { get; }

    public int Xid { get; private set; }

    public long SentAt { get; set; }

    public int FrameLength { get; }

    public ReadOnlySpan<byte> Frame => _frame.AsSpan(0, FrameLength);

    public void AssignXid(int xid)
    {
        Xid = xid;
        BinaryPrimitives.WriteInt32BigEndian(_frame.AsSpan(4), xid);
    }

    /// <summary>Returns the pooled frame buffer once it has been written (or will never be).</summary>
    public void ReleaseFrame()
    {
        var f = Interlocked.Exchange(ref _frame, null);
        if (f is not null)
        {
            ArrayPool<byte>.Shared.Return(f);
        }
    }

    public abstract bool IsCompleted { get; }

    public abstract void Complete(ZooKeeperErrorCode error, ReadOnlySpan<byte> body);

    public abstract void Fail(Exception exception);
}

internal sealed class Request<T> : Request
{
    private readonly ResponseParser<T>? _parser;
    private readonly RequestParser<T>? _requestParser;
    private readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Request(OpCode op, string? path, JuteWriter frame, ResponseParser<T> parser) : base(op, path, frame) => _parser = parser;

    public Request(OpCode op, string path, JuteWriter frame, RequestParser<T> parser, ZooKeeperClient client) : base(op, path, frame)
    {
        _requestParser = parser;
        Client = client;
    }

    /// <summary>The client that sent the request (for a <see cref="RequestParser{T}"/>).</summary>
    public ZooKeeperClient? Client { get; }

    public Task<T> Task => _tcs.Task;

    public override bool IsCompleted => _tcs.Task.IsCompleted;

    public override void Complete(ZooKeeperErrorCode error, ReadOnlySpan<byte> body)
    {
        try
        {
            _tcs.TrySetResult(_parser is not null ? _parser(error, body) : _requestParser!(this, error, body));
        }
        catch (Exception ex)
        {
            _tcs.TrySetException(ex);
        }

        if (ZooKeeperMetrics.Duration.Enabled)
        {
            ZooKeeperMetrics.Duration.Record(Stopwatch.GetElapsedTime(SentAt).TotalMilliseconds, new KeyValuePair<string, object?>("op", Op.ToString()));
        }
    }

    public override void Fail(Exception exception) => _tcs.TrySetException(exception);

    public void Cancel(CancellationToken token) => _tcs.TrySetCanceled(token);
}

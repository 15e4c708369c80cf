using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Coordination.ZooKeeper.Protocol;

/// <summary>
/// Writes one length-prefixed jute frame into a pooled buffer: big-endian integers, strings and buffers as
/// int length + bytes (-1 for null), vectors as int count + items.
/// </summary>
internal sealed class JuteWriter : IDisposable
{
    private byte[] _buffer;
    private int _position;

    public JuteWriter(int capacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        _position = 4; // frame length, patched by Finish
    }

    public byte[] Buffer => _buffer;

    public int Length => _position;

    /// <summary>Patches the frame length; the frame is <c>Buffer[0..Length]</c>.</summary>
    public void Finish() => BinaryPrimitives.WriteInt32BigEndian(_buffer, _position - 4);

    private Span<byte> Reserve(int count)
    {
        if (_position + count > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _position + count));
            _buffer.AsSpan(0, _position).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var span = _buffer.AsSpan(_position, count);
        _position += count;
        return span;
    }

    public void WriteInt(int value) => BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);

    public void WriteLong(long value) => BinaryPrimitives.WriteInt64BigEndian(Reserve(8), value);

    public void WriteBool(bool value) => Reserve(1)[0] = value ? (byte)1 : (byte)0;

    public void WriteBuffer(ReadOnlySpan<byte> value)
    {
        WriteInt(value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    public void WriteNullBuffer() => WriteInt(-1);

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }

        var count = Encoding.UTF8.GetByteCount(value);
        WriteInt(count);
        Encoding.UTF8.GetBytes(value, Reserve(count));
    }

    public void WriteStringVector(IReadOnlyCollection<string> values)
    {
        WriteInt(values.Count);
        foreach (var v in values)
        {
            WriteString(v);
        }
    }

    public void WriteAcl(IReadOnlyList<ZooKeeperAcl> acl)
    {
        WriteInt(acl.Count);
        for (var i = 0; i < acl.Count; i++)
        {
            var a = acl[i]; // indexed: a foreach over the interface boxes an enumerator per create
            WriteInt((int)a.Permissions);
            WriteString(a.Scheme);
            WriteString(a.Id);
        }
    }

    public void Dispose()
    {
        var b = _buffer;
        _buffer = [];
        if (b.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}

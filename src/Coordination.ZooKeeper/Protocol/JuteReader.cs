using System.Buffers.Binary;
using System.Text;

namespace Coordination.ZooKeeper.Protocol;

/// <summary>Reads jute values from one received frame (without its length prefix).</summary>
internal ref struct JuteReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public JuteReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Remaining => _data.Length - _position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _position + count > _data.Length)
        {
            throw new InvalidDataException($"Malformed ZooKeeper frame: needed {count} bytes at offset {_position}, frame has {_data.Length}.");
        }

        var s = _data.Slice(_position, count);
        _position += count;
        return s;
    }

    public int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public bool ReadBool() => Take(1)[0] != 0;

    public byte[]? ReadBuffer()
    {
        var len = ReadInt();
        return len < 0 ? null : Take(len).ToArray();
    }

    public string? ReadString()
    {
        var len = ReadInt();
        return len < 0 ? null : Encoding.UTF8.GetString(Take(len));
    }

    public List<string> ReadStringVector()
    {
        var count = ReadInt();
        var list = new List<string>(Math.Max(count, 0));
        for (var i = 0; i < count; i++)
        {
            list.Add(ReadString() ?? string.Empty);
        }

        return list;
    }

    public ZooKeeperStat ReadStat() => new(
        Czxid: ReadLong(),
        Mzxid: ReadLong(),
        Ctime: ReadLong(),
        Mtime: ReadLong(),
        Version: ReadInt(),
        Cversion: ReadInt(),
        Aversion: ReadInt(),
        EphemeralOwner: ReadLong(),
        DataLength: ReadInt(),
        NumChildren: ReadInt(),
        Pzxid: ReadLong());

    public List<ZooKeeperAcl> ReadAcl()
    {
        var count = ReadInt();
        var list = new List<ZooKeeperAcl>(Math.Max(count, 0));
        for (var i = 0; i < count; i++)
        {
            var perms = (ZooKeeperPermissions)ReadInt();
            var scheme = ReadString() ?? string.Empty;
            var id = ReadString() ?? string.Empty;
            list.Add(new ZooKeeperAcl(perms, scheme, id));
        }

        return list;
    }
}

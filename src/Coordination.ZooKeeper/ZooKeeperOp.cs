using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <summary>One operation of a multi (transaction): all succeed or none is applied.</summary>
/// <remarks>Each operation encodes its request body once, for a single request and inside a multi alike.</remarks>
public abstract record ZooKeeperOp(string Path)
{
    /// <summary>The request's op code.</summary>
    internal abstract OpCode Code { get; }

    /// <summary>Writes the request body with <paramref name="serverPath"/> (the path with the chroot prefixed).</summary>
    internal abstract void Write(JuteWriter w, string serverPath);

    /// <summary>Create a node; without <paramref name="acl"/> it gets the client's <see cref="ZooKeeperClientOptions.DefaultAcl"/>.</summary>
    public static ZooKeeperOp Create(string path, ReadOnlyMemory<byte> data, CreateMode mode = CreateMode.Persistent, IReadOnlyList<ZooKeeperAcl>? acl = null, long ttl = 0)
        => new CreateOp(path, data, mode, acl, ttl);

    /// <summary>Delete a node (version -1 = any).</summary>
    public static ZooKeeperOp Delete(string path, int version = -1) => new DeleteOp(path, version);

    /// <summary>Set a node's data (version -1 = any).</summary>
    public static ZooKeeperOp SetData(string path, ReadOnlyMemory<byte> data, int version = -1) => new SetDataOp(path, data, version);

    /// <summary>Require the node to be at <paramref name="version"/>.</summary>
    public static ZooKeeperOp Check(string path, int version) => new CheckOp(path, version);

    /// <summary>A create operation; a null <see cref="Acl"/> means the client's <see cref="ZooKeeperClientOptions.DefaultAcl"/>.</summary>
    public sealed record CreateOp(string Path, ReadOnlyMemory<byte> Data, CreateMode Mode, IReadOnlyList<ZooKeeperAcl>? Acl, long Ttl) : ZooKeeperOp(Path)
    {
        internal override OpCode Code => CodeOf(Mode);

        internal static OpCode CodeOf(CreateMode mode) => mode.IsTtl() ? OpCode.CreateTtl : mode == CreateMode.Container ? OpCode.CreateContainer : OpCode.Create2;

        internal override void Write(JuteWriter w, string serverPath) => WriteBody(w, serverPath, Data.Span, Mode, Acl ?? ZooKeeperAcl.OpenUnsafe, Ttl); // the client fills in its default before writing

        /// <summary>The create request's body (one encoding for a single create and one inside a multi).</summary>
        internal static void WriteBody(JuteWriter w, string serverPath, ReadOnlySpan<byte> data, CreateMode mode, IReadOnlyList<ZooKeeperAcl> acl, long ttl)
        {
            w.WriteString(serverPath);
            w.WriteBuffer(data);
            w.WriteAcl(acl);
            w.WriteInt((int)mode);
            if (mode.IsTtl())
            {
                w.WriteLong(ttl);
            }
        }
    }

    /// <summary>A delete operation.</summary>
    public sealed record DeleteOp(string Path, int Version) : ZooKeeperOp(Path)
    {
        internal override OpCode Code => OpCode.Delete;

        internal override void Write(JuteWriter w, string serverPath) => WriteBody(w, serverPath, Version);

        internal static void WriteBody(JuteWriter w, string serverPath, int version)
        {
            w.WriteString(serverPath);
            w.WriteInt(version);
        }
    }

    /// <summary>A set-data operation.</summary>
    public sealed record SetDataOp(string Path, ReadOnlyMemory<byte> Data, int Version) : ZooKeeperOp(Path)
    {
        internal override OpCode Code => OpCode.SetData;

        internal override void Write(JuteWriter w, string serverPath)
        {
            w.WriteString(serverPath);
            w.WriteBuffer(Data.Span);
            w.WriteInt(Version);
        }
    }

    /// <summary>A version check.</summary>
    public sealed record CheckOp(string Path, int Version) : ZooKeeperOp(Path)
    {
        internal override OpCode Code => OpCode.Check;

        internal override void Write(JuteWriter w, string serverPath)
        {
            w.WriteString(serverPath);
            w.WriteInt(Version);
        }
    }
}

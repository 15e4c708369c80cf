using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <content>Node operations: create, delete, exists, data, children, paths, sync and ACLs.</content>
public sealed partial class ZooKeeperClient
{
    /// <summary>Creates a node and returns its actual path (with the sequence suffix) and stat.</summary>
    /// <param name="path">Absolute path; for sequential modes it may end with '/' (the name is then just the sequence).</param>
    /// <param name="data">The node's data (at most <see cref="MaxDataLength"/> bytes).</param>
    /// <param name="mode">Persistent, ephemeral, sequential, container or TTL.</param>
    /// <param name="acl">The ACL; default the client's <see cref="ZooKeeperClientOptions.DefaultAcl"/> (unset: world:anyone with all permissions).</param>
    /// <param name="ttl">For TTL modes: milliseconds without change after which the server deletes the node; otherwise 0.</param>
    /// <param name="cancellationToken">Cancels the wait (the create may still be applied).</param>
    /// <exception cref="NodeExistsException">The node exists.</exception>
    /// <exception cref="NoNodeException">The parent does not exist.</exception>
    public Task<ZooKeeperCreateResult> CreateAsync(string path, ReadOnlyMemory<byte> data, CreateMode mode = CreateMode.Persistent, IReadOnlyList<ZooKeeperAcl>? acl = null, long ttl = 0, CancellationToken cancellationToken = default)
    {
        ValidateCreate(path, data.Span, mode, acl = AclOrDefault(acl), ttl);
        var code = ZooKeeperOp.CreateOp.CodeOf(mode);
        var frame = BeginFrame(code);
        ZooKeeperOp.CreateOp.WriteBody(frame, Prefix(path), data.Span, mode, acl, ttl);
        return SendAsync(code, path, frame, ParseCreate, cancellationToken);
    }

    private static readonly RequestParser<ZooKeeperCreateResult> ParseCreate = static (request, err, body) =>
    {
        if (err != ZooKeeperErrorCode.Ok)
        {
            throw Error(err, request.Path!);
        }

        var r = new JuteReader(body);
        var created = request.Client!.Strip(r.ReadString())!;
        return new ZooKeeperCreateResult(created, r.ReadStat());
    };

    private static readonly RequestParser<bool> ParseOk = static (request, err, _) => err == ZooKeeperErrorCode.Ok ? true : throw Error(err, request.Path!);

    private static void ValidateCreate(string path, ReadOnlySpan<byte> data, CreateMode mode, IReadOnlyList<ZooKeeperAcl> acl, long ttl)
    {
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"Unknown create mode {(int)mode}.");
        }

        ZooKeeperPath.Validate(path, nameof(path), sequential: mode.IsSequential());
        if (path == "/")
        {
            throw new ArgumentException("The root '/' cannot be created.", nameof(path));
        }

        ValidateData(data, path);
        ValidateAcl(acl);
        if (mode.IsTtl())
        {
            if (ttl is <= 0 or > 0xFF_FFFF_FFFFL)
            {
                throw new ArgumentOutOfRangeException(nameof(ttl), ttl, $"TTL {ttl} ms for '{path}' must be between 1 and {0xFF_FFFF_FFFFL} with mode {mode}.");
            }
        }
        else if (ttl != 0)
        {
            throw new ArgumentException($"A TTL ({ttl} ms) was given for '{path}' but mode {mode} is not a TTL mode; use PersistentWithTtl or PersistentSequentialWithTtl.", nameof(ttl));
        }
    }

    /// <summary>Deletes a node if its version matches (-1 = any version).</summary>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    /// <exception cref="BadVersionException">The version did not match.</exception>
    /// <exception cref="NotEmptyException">The node has children.</exception>
    public Task DeleteAsync(string path, int version = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        ValidateVersion(version);
        if (path == "/")
        {
            throw new ArgumentException("The root '/' cannot be deleted.", nameof(path));
        }

        var frame = BeginFrame(OpCode.Delete);
        ZooKeeperOp.DeleteOp.WriteBody(frame, Prefix(path), version);
        return SendAsync(OpCode.Delete, path, frame, ParseOk, cancellationToken);
    }

    /// <summary>Returns the node's stat, or null when it does not exist. A watcher fires once on creation, deletion or data change.</summary>
    public Task<ZooKeeperStat?> ExistsAsync(string path, ZooKeeperWatcher? watcher = null, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.Exists, path, PathAndWatch(server, watcher is not null), (err, body) =>
        {
            if (err == ZooKeeperErrorCode.NoNode)
            {
                if (watcher is not null)
                {
                    _watches.AddExist(path, watcher);
                }

                return null;
            }

            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            if (watcher is not null)
            {
                _watches.AddData(path, watcher);
            }

            return (ZooKeeperStat?)new JuteReader(body).ReadStat();
        }, cancellationToken);
    }

    /// <summary>Returns the node's data and stat. A watcher fires once on data change or deletion.</summary>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    public Task<ZooKeeperDataResult> GetDataAsync(string path, ZooKeeperWatcher? watcher = null, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.GetData, path, PathAndWatch(server, watcher is not null), (err, body) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            if (watcher is not null)
            {
                _watches.AddData(path, watcher);
            }

            var r = new JuteReader(body);
            var data = r.ReadBuffer() ?? [];
            return new ZooKeeperDataResult(data, r.ReadStat());
        }, cancellationToken);
    }

    /// <summary>Sets the node's data if its version matches (-1 = any) and returns the new stat.</summary>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    /// <exception cref="BadVersionException">The version did not match.</exception>
    public Task<ZooKeeperStat> SetDataAsync(string path, ReadOnlyMemory<byte> data, int version = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        ValidateData(data.Span, path);
        ValidateVersion(version);
        var op = new ZooKeeperOp.SetDataOp(path, data, version);
        var server = Prefix(path);
        return SendAsync(op.Code, path, w => op.Write(w, server), (err, body) => err == ZooKeeperErrorCode.Ok ? new JuteReader(body).ReadStat() : throw Error(err, path), cancellationToken);
    }

    /// <summary>Returns the node's children (names, unsorted) and stat. A watcher fires once when children change or the node is deleted.</summary>
    /// <exception cref="NoNodeException">The node does not exist.</exception>
    public Task<ZooKeeperChildrenResult> GetChildrenAsync(string path, ZooKeeperWatcher? watcher = null, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        if (watcher is null)
        {
            var frame = BeginFrame(OpCode.GetChildren2);
            frame.WriteString(server);
            frame.WriteBool(false);
            return SendAsync(OpCode.GetChildren2, path, frame, ParseChildren, cancellationToken);
        }

        return SendAsync(OpCode.GetChildren2, path, PathAndWatch(server, watcher is not null), (err, body) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            if (watcher is not null)
            {
                _watches.AddChild(path, watcher);
            }

            var r = new JuteReader(body);
            var children = r.ReadStringVector();
            return new ZooKeeperChildrenResult(children, r.ReadStat());
        }, cancellationToken);
    }

    private static readonly RequestParser<ZooKeeperChildrenResult> ParseChildren = static (request, err, body) =>
    {
        if (err != ZooKeeperErrorCode.Ok)
        {
            throw Error(err, request.Path!);
        }

        var r = new JuteReader(body);
        var children = r.ReadStringVector();
        return new ZooKeeperChildrenResult(children, r.ReadStat());
    };

    /// <summary>
    /// Makes sure <paramref name="path"/> exists, creating it and any missing ancestors as empty persistent nodes.
    /// Existing ancestors are never written to (so a restrictive ACL above the first missing node does not matter).
    /// Returns the paths this call created, top-down; a node another client creates meanwhile is not an error. The nodes
    /// get <paramref name="acl"/>, or the client's <see cref="ZooKeeperClientOptions.DefaultAcl"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> EnsurePathAsync(string path, IReadOnlyList<ZooKeeperAcl>? acl = null, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var missing = new Stack<string>();
        for (var p = path; p != "/"; p = ZooKeeperPath.GetParent(p))
        {
            if (await ExistsAsync(p, null, cancellationToken).ConfigureAwait(false) is not null)
            {
                break;
            }

            missing.Push(p);
        }

        var created = new List<string>(missing.Count);
        while (missing.TryPop(out var p))
        {
            try
            {
                await CreateAsync(p, ReadOnlyMemory<byte>.Empty, CreateMode.Persistent, acl, cancellationToken: cancellationToken).ConfigureAwait(false);
                created.Add(p);
            }
            catch (NodeExistsException)
            {
            }
        }

        return created;
    }

    /// <summary>Waits until the connected server has applied every update committed before the call (for read-after-write across clients).</summary>
    public Task SyncAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.Sync, path, w => w.WriteString(server), (err, _) => err == ZooKeeperErrorCode.Ok ? true : throw Error(err, path), cancellationToken);
    }

    /// <summary>Returns the node's ACL and stat.</summary>
    public Task<ZooKeeperAclResult> GetAclAsync(string path, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        var server = Prefix(path);
        return SendAsync(OpCode.GetAcl, path, w => w.WriteString(server), (err, body) =>
        {
            if (err != ZooKeeperErrorCode.Ok)
            {
                throw Error(err, path);
            }

            var r = new JuteReader(body);
            var acl = r.ReadAcl();
            return new ZooKeeperAclResult(acl, r.ReadStat());
        }, cancellationToken);
    }

    /// <summary>Replaces the node's ACL if its ACL version matches (-1 = any) and returns the new stat.</summary>
    public Task<ZooKeeperStat> SetAclAsync(string path, IReadOnlyList<ZooKeeperAcl> acl, int aclVersion = -1, CancellationToken cancellationToken = default)
    {
        ZooKeeperPath.Validate(path, nameof(path));
        ArgumentNullException.ThrowIfNull(acl);
        ValidateAcl(acl);
        ValidateVersion(aclVersion);
        var server = Prefix(path);
        return SendAsync(OpCode.SetAcl, path, w =>
        {
            w.WriteString(server);
            w.WriteAcl(acl);
            w.WriteInt(aclVersion);
        }, (err, body) => err == ZooKeeperErrorCode.Ok ? new JuteReader(body).ReadStat() : throw Error(err, path), cancellationToken);
    }
}

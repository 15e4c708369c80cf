using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <content>Transactions: multi.</content>
public sealed partial class ZooKeeperClient
{
    /// <summary>
    /// Runs <paramref name="ops"/> atomically: all are applied or none. On failure throws the failed operation's typed
    /// exception with <see cref="ZooKeeperException.MultiResults"/> describing every operation.
    /// </summary>
    public Task<IReadOnlyList<ZooKeeperOpResult>> MultiAsync(IEnumerable<ZooKeeperOp> ops, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ops);
        // A create without an ACL gets the client's default.
        var list = ops.Select(o => o is ZooKeeperOp.CreateOp { Acl: null } c ? c with { Acl = AclOrDefault(null) } : o).ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("A multi needs at least one operation.", nameof(ops));
        }

        foreach (var op in list)
        {
            switch (op)
            {
                case ZooKeeperOp.CreateOp c:
                    ValidateCreate(c.Path, c.Data.Span, c.Mode, c.Acl!, c.Ttl);
                    break;
                case ZooKeeperOp.DeleteOp d:
                    ZooKeeperPath.Validate(d.Path, nameof(ops));
                    ValidateVersion(d.Version);
                    break;
                case ZooKeeperOp.SetDataOp s:
                    ZooKeeperPath.Validate(s.Path, nameof(ops));
                    ValidateData(s.Data.Span, s.Path);
                    ValidateVersion(s.Version);
                    break;
                case ZooKeeperOp.CheckOp k:
                    ZooKeeperPath.Validate(k.Path, nameof(ops));
                    ValidateVersion(k.Version);
                    break;
                case null:
                    throw new ArgumentException("A multi operation is null.", nameof(ops));
                default:
                    throw new ArgumentException($"Unsupported multi operation {op.GetType().Name}.", nameof(ops));
            }
        }

        var first = list[0].Path;
        return SendAsync<IReadOnlyList<ZooKeeperOpResult>>(OpCode.Multi, first, w =>
        {
            foreach (var op in list)
            {
                WriteMultiHeader(w, op.Code);
                op.Write(w, Prefix(op.Path));
            }

            w.WriteInt(-1);
            w.WriteBool(true);
            w.WriteInt(-1);
        }, (err, body) =>
        {
            if (body.Length == 0)
            {
                throw Error(err == ZooKeeperErrorCode.Ok ? ZooKeeperErrorCode.MarshallingError : err, first);
            }

            var r = new JuteReader(body);
            var results = new List<ZooKeeperOpResult>(list.Count);
            while (true)
            {
                var type = (OpCode)r.ReadInt();
                var done = r.ReadBool();
                var opErr = (ZooKeeperErrorCode)r.ReadInt();
                if (done)
                {
                    break;
                }

                switch (type)
                {
                    case OpCode.Create:
                        results.Add(new ZooKeeperOpResult(ZooKeeperErrorCode.Ok, Strip(r.ReadString())));
                        break;
                    case OpCode.Create2:
                    case OpCode.CreateTtl:
                    case OpCode.CreateContainer:
                        results.Add(new ZooKeeperOpResult(ZooKeeperErrorCode.Ok, Strip(r.ReadString()), r.ReadStat()));
                        break;
                    case OpCode.SetData:
                        results.Add(new ZooKeeperOpResult(ZooKeeperErrorCode.Ok, null, r.ReadStat()));
                        break;
                    case OpCode.Delete:
                    case OpCode.Check:
                        results.Add(new ZooKeeperOpResult(ZooKeeperErrorCode.Ok));
                        break;
                    case OpCode.Error:
                        results.Add(new ZooKeeperOpResult((ZooKeeperErrorCode)r.ReadInt()));
                        break;
                    default:
                        throw new InvalidDataException($"Unexpected multi result type {type} (err {opErr}).");
                }
            }

            var failed = results.FindIndex(x => x.Error is not ZooKeeperErrorCode.Ok and not ZooKeeperErrorCode.RuntimeInconsistency);
            if (failed >= 0 || err != ZooKeeperErrorCode.Ok)
            {
                var code = failed >= 0 ? results[failed].Error : err;
                var path = failed >= 0 && failed < list.Count ? list[failed].Path : first;
                var ex = ZooKeeperException.Create(code, path, $"Multi failed at operation {failed} ({list[Math.Max(failed, 0)].GetType().Name.Replace("Op", string.Empty, StringComparison.Ordinal)} '{path}'): {code}; nothing was applied.");
                ex.MultiResults = results;
                throw ex;
            }

            return results;
        }, cancellationToken);
    }
}

namespace Coordination.ZooKeeper;

/// <summary>The metadata ZooKeeper keeps for a znode.</summary>
/// <param name="Czxid">Zxid of the transaction that created the node; grows strictly, so it serves as a fencing token.</param>
/// <param name="Mzxid">Zxid of the last modification.</param>
/// <param name="Ctime">Creation time, milliseconds since the Unix epoch.</param>
/// <param name="Mtime">Last modification time, milliseconds since the Unix epoch.</param>
/// <param name="Version">Data version.</param>
/// <param name="Cversion">Children version.</param>
/// <param name="Aversion">ACL version.</param>
/// <param name="EphemeralOwner">Owning session id for ephemeral nodes, otherwise 0.</param>
/// <param name="DataLength">Length of the data in bytes.</param>
/// <param name="NumChildren">Number of children.</param>
/// <param name="Pzxid">Zxid of the last change to the children.</param>
public sealed record ZooKeeperStat(
    long Czxid,
    long Mzxid,
    long Ctime,
    long Mtime,
    int Version,
    int Cversion,
    int Aversion,
    long EphemeralOwner,
    int DataLength,
    int NumChildren,
    long Pzxid)
{
    /// <summary>True when the node is ephemeral.</summary>
    public bool IsEphemeral => EphemeralOwner != 0;
}

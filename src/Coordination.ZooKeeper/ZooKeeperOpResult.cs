using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <summary>Result of one operation of a multi.</summary>
/// <param name="Error">Ok, or the error of this operation (RuntimeInconsistency for operations rolled back because another failed).</param>
/// <param name="Path">For a create: the created path (relative to the chroot).</param>
/// <param name="Stat">For a set-data: the new stat.</param>
public sealed record ZooKeeperOpResult(ZooKeeperErrorCode Error, string? Path = null, ZooKeeperStat? Stat = null);

using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <summary>Result of a create: the actual path (with the sequence suffix) and the node's stat.</summary>
public sealed record ZooKeeperCreateResult(string Path, ZooKeeperStat Stat);

using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <summary>Result of a get-children.</summary>
public sealed record ZooKeeperChildrenResult(IReadOnlyList<string> Children, ZooKeeperStat Stat);

using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <summary>Result of a get-data.</summary>
public sealed record ZooKeeperDataResult(byte[] Data, ZooKeeperStat Stat);

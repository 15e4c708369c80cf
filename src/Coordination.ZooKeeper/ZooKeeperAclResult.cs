using Coordination.ZooKeeper.Protocol;

namespace Coordination.ZooKeeper;

/// <summary>Result of a get-ACL.</summary>
public sealed record ZooKeeperAclResult(IReadOnlyList<ZooKeeperAcl> Acl, ZooKeeperStat Stat);

namespace Coordination.Elections;

/// <summary>One leader election as ZooKeeper sees it, whether or not this instance takes part.</summary>
/// <param name="Name">The election's name.</param>
/// <param name="Leader">The current leader, or null when nobody leads.</param>
/// <param name="Candidates">Candidates standing, the leader included.</param>
public sealed record ElectionInfo(string Name, LeaderInfo? Leader, int Candidates);

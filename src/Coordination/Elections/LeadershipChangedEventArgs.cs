namespace Coordination.Elections;

/// <summary>A change of this instance's leadership in one election.</summary>
/// <param name="Election">The election's name.</param>
/// <param name="IsLeader">True when this instance became leader, false when its term ended.</param>
/// <param name="FencingToken">The term's fencing token.</param>
/// <param name="Reason">Why a term ended (lost or given up); null when it began.</param>
public sealed record LeadershipChangedEventArgs(string Election, bool IsLeader, long FencingToken, string? Reason);

namespace Coordination.Elections;

/// <summary>The leader of an election as stored in its ZooKeeper node.</summary>
/// <param name="InstanceId">The leader's instance id.</param>
/// <param name="Host">The leader's machine name.</param>
/// <param name="ProcessId">The leader's process id (0 when its node does not say).</param>
/// <param name="Endpoints">The leader's endpoints (its server addresses or the configured ones); may be empty.</param>
/// <param name="Since">When the current term began (the node's write time until the leader stamps it).</param>
/// <param name="FencingToken">The term's fencing token (the node's czxid).</param>
public sealed record LeaderInfo(string InstanceId, string Host, int ProcessId, IReadOnlyList<string> Endpoints, DateTimeOffset Since, long FencingToken);

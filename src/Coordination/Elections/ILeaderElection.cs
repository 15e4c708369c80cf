namespace Coordination.Elections;

/// <summary>
/// One named leader election (<c>AddLeaderElection("scheduler")</c>, resolved as a keyed service by its name): at
/// most one instance leads at any time, decided by ZooKeeper; the others wait in join order and take over when the
/// leader stops, crashes or loses its session.
/// </summary>
public interface ILeaderElection
{
    /// <summary>The election's name, as registered.</summary>
    string Name { get; }

    /// <summary>The id this instance stands under (<see cref="LeaderElectionOptions.InstanceId"/>).</summary>
    string InstanceId { get; }

    /// <summary>Where this instance stands: leader, follower, not participating, or unknown (ZooKeeper unavailable).</summary>
    LeaderElectionState State { get; }

    /// <summary>True while this instance leads; false as soon as <see cref="LeadershipToken"/> fires.</summary>
    bool IsLeader { get; }

    /// <summary>
    /// Fires when the current term ends: leadership lost (session expired or silent past the lost-lock bound, node
    /// deleted) or given up (stop, <see cref="ResignAsync"/>). Already cancelled while this instance does not lead.
    /// </summary>
    CancellationToken LeadershipToken { get; }

    /// <summary>The fencing token of the current term (its node's czxid, strictly increasing per term); 0 while not leading.</summary>
    long FencingToken { get; }

    /// <summary>Raised (off ZooKeeper's event thread) when this instance becomes leader or stops being leader.</summary>
    event EventHandler<LeadershipChangedEventArgs>? LeadershipChanged;

    /// <summary>Completes when this instance leads, returning the term's leadership token.</summary>
    /// <exception cref="InvalidOperationException">This instance does not take part in the election.</exception>
    Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Who leads now, read from ZooKeeper (works on instances that do not take part too); null when nobody leads.
    /// </summary>
    /// <exception cref="TimeoutException">ZooKeeper is unavailable, so the leader cannot be known.</exception>
    Task<LeaderInfo?> GetLeaderAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives up the current term (the token fires before the node is deleted) and stands again at the back of the
    /// queue; does nothing when this instance does not lead.
    /// </summary>
    Task ResignAsync(CancellationToken cancellationToken = default);
}

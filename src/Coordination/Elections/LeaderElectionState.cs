namespace Coordination.Elections;

/// <summary>Where an instance stands in one election.</summary>
public enum LeaderElectionState
{
    /// <summary>The election has not started yet, or has stopped.</summary>
    Stopped,
    /// <summary>The instance only observes the election (<see cref="LeaderElectionOptions.Candidate"/> is false).</summary>
    NotParticipating,
    /// <summary>The instance waits in the queue behind the leader.</summary>
    Follower,
    /// <summary>The instance leads.</summary>
    Leader,
    /// <summary>ZooKeeper is unavailable: nobody may lead on its word (fail closed); the candidate retries.</summary>
    Unknown,
}

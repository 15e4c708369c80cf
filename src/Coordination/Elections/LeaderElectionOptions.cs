namespace Coordination.Elections;

/// <summary>Options of one named election.</summary>
public sealed class LeaderElectionOptions
{
    /// <summary>True (the default) to stand for leadership; false to only read who leads (dashboards, routers).</summary>
    public bool Candidate { get; set; } = true;

    /// <summary>The id published while leading; default <c>&lt;machine&gt;-&lt;pid&gt;</c>.</summary>
    public string? InstanceId { get; set; }

    /// <summary>Endpoints published while leading; default: the host's server addresses when it has any.</summary>
    public IList<string> Endpoints { get; } = [];
}

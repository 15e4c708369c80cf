namespace Coordination.Discovery;

/// <summary>The status values an instance writes into its registration node.</summary>
public static class ServiceInstanceStatus
{
    /// <summary>The instance is serving (and healthy, when health gating is on).</summary>
    public const string Up = "up";

    /// <summary>The instance reports Degraded health; it still receives traffic.</summary>
    public const string Degraded = "degraded";

    /// <summary>The instance reports Unhealthy; the endpoint provider skips it.</summary>
    public const string Unhealthy = "unhealthy";
}

namespace WebApp;

/// <summary>Settings of the sample itself (section <c>Sample</c>); the Coordination servers come from section <c>Coordination</c>.</summary>
public sealed class SampleOptions
{
    /// <summary>The service name the instance registers under for discovery.</summary>
    public string ServiceName { get; set; } = "webapp";

    /// <summary>The ZooKeeper node holding the sample's configuration.</summary>
    public string ConfigPath { get; set; } = "/config/webapp";

    /// <summary>Prefix of Hangfire's keys in Redis; instances with the same prefix share jobs.</summary>
    public string HangfirePrefix { get; set; } = "webapp:hangfire:";

    /// <summary>Longest hold a request may ask for (holdMs), so a typo cannot block a key for hours.</summary>
    public int MaxHoldMs { get; set; } = 60_000;

    /// <summary>Registers the recurring heartbeat job (off in tests that want a quiet Hangfire).</summary>
    public bool RecurringJobs { get; set; } = true;
}

namespace Coordination;

// Stand-in for the compile-time aspect's attribute (src/Coordination.Aspects), which the Hangfire filter reads by its
// full name Coordination.SingletonAttribute without referencing that assembly.
[AttributeUsage(AttributeTargets.Method)]
public sealed class SingletonAttribute(string key) : Attribute
{
    public string Key { get; } = key;

    public string? Timeout { get; set; }

    public SingletonContention OnContention { get; set; } = SingletonContention.Throw;
}

public enum SingletonContention
{
    Wait,
    Skip,
    Throw,
}

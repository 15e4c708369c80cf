namespace Coordination.Nemesis;

/// <summary>
/// The primitives a worker exercises, each on its own key, fence and victim counter, and judged on its own. A task's
/// log source is <c>&lt;worker&gt;.&lt;primitive&gt;.&lt;n&gt;</c> (<c>w1.sem.0</c>); the older <c>w1.0</c> form is the lock.
/// </summary>
internal static class NemesisPrimitive
{
    public const string Lock = "lock";
    public const string Semaphore = "sem";
    public const string ReaderWriter = "rw";
    public const string Election = "elect";

    public static readonly IReadOnlyList<string> All = [Lock, Semaphore, ReaderWriter, Election];

    /// <summary>The primitive a worker task's source belongs to; null for process-level and orchestrator lines.</summary>
    public static string? Of(string source)
    {
        var parts = source.Split('.');
        return parts.Length < 2 ? null : parts[1].Length > 0 && char.IsAsciiDigit(parts[1][0]) ? Lock : parts[1];
    }

    public static IReadOnlyList<string> Parse(string list)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in names)
        {
            if (!All.Contains(name))
            {
                throw new ArgumentException($"--primitives: '{name}' is not one of {string.Join(", ", All)}.");
            }
        }

        return names.Length > 0 ? names.Distinct().ToList() : throw new ArgumentException("--primitives names none.");
    }
}

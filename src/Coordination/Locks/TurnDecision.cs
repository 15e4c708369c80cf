namespace Coordination.Locks;

/// <summary>A turn rule's answer: granted, or the predecessors whose deletion may grant the waiter.</summary>
internal readonly record struct TurnDecision(bool IsGranted, IReadOnlyList<string> Watch)
{
    public static TurnDecision Granted => new(true, []);

    public static TurnDecision Wait(IReadOnlyList<string> watch) => new(false, watch);
}

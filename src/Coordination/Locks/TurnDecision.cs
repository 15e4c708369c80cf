namespace Coordination.Locks;

/// <summary>
/// A turn rule's answer: granted, or the predecessors whose deletion may grant the waiter. <c>GrantedWhenAnyGoes</c>:
/// the deletion of any one of them alone grants it (the lock: the waiter is second), so a waiter told of that deletion
/// (watch event, or the bell naming the node) is granted without reading the queue again; nodes only leave a queue
/// and new ones join behind, so nothing can have come in ahead. (Only while its own session is surely alive: see
/// ZooKeeperLockQueue.SessionSurelyAlive.)
/// </summary>
internal readonly record struct TurnDecision(bool IsGranted, IReadOnlyList<string> Watch, bool GrantedWhenAnyGoes = false)
{
    public static TurnDecision Granted => new(true, []);

    public static TurnDecision Wait(IReadOnlyList<string> watch, bool grantedWhenAnyGoes = false) => new(false, watch, grantedWhenAnyGoes);
}

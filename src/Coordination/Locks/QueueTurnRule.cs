namespace Coordination.Locks;

/// <summary>
/// Who may proceed in a ZooKeeper lock queue, and which nodes a waiter watches. The queue (create, order, wait,
/// leave, janitor) is one engine; the primitives differ only in this rule.
/// </summary>
/// <remarks>
/// The queue is the directory's children in sequence order; nodes only ever leave it, and new nodes join behind every
/// existing one, so a waiter's set of predecessors only shrinks. Each rule grants by a condition on the predecessors
/// and names a set W of predecessors to watch such that <b>the waiter cannot become grantable while every node in W
/// still exists</b>. That is the proof of no missed wake-up: the waiter re-reads the queue after arming its watches,
/// and any change that could grant it deletes a node of W, which fires a watch.
/// <code>
/// Mutex, Write   granted: no predecessor.            W = { immediate predecessor }.
///                (while it exists the waiter has a predecessor)
/// Semaphore(N)   granted: fewer than N predecessors. W = the N immediate predecessors.  The oldest node's count
///                (S&lt;N&gt;- in its name) is the count in use: a contender asking another count is refused.
///                (while those N exist the waiter has at least N predecessors; a deletion further ahead cannot grant
///                it, so it does not wake: a release wakes at most the N waiters behind the leaving node, never the
///                whole queue.  Watching only the node N places ahead, as a single watch would, misses a release by
///                any of the other N-1 and leaves a permit idle.)
/// Read           granted: no writer among the predecessors (readers share; a waiting writer blocks every reader
///                queued after it, so a stream of readers cannot starve a writer).  W = { nearest writer ahead }.
/// </code>
/// When the deletion of any single watched node already grants the waiter (the lock: it is second; a semaphore: it has
/// exactly N predecessors; a reader: the watched writer is the only one ahead), the rule says so
/// (<see cref="TurnDecision.GrantedWhenAnyGoes"/>) and the waiter told of that deletion takes its turn without reading
/// the queue again: one round trip less on every hand-off.
/// Curator's InterProcessSemaphoreV2 serialises waiters with an inner mutex and watches the lease directory; one queue
/// with N watches keeps one node per acquisition (one write) and FIFO order without the inner lock.
/// </remarks>
internal abstract class QueueTurnRule
{
    private static readonly QueueTurnRule Exclusive = new ExclusiveRule();
    private static readonly QueueTurnRule Reader = new ReadRule();

    /// <summary>The rule for <paramref name="shape"/>.</summary>
    public static QueueTurnRule For(LockShape shape) => shape.Kind switch
    {
        LockKind.Semaphore => new SemaphoreRule(shape.Permits),
        LockKind.Read => Reader,
        _ => Exclusive,
    };

    /// <summary>
    /// Decides for the node at <paramref name="index"/> of <paramref name="ordered"/> (the queue in sequence order):
    /// granted, or the predecessors to watch (never empty when not granted).
    /// </summary>
    /// <exception cref="InvalidOperationException">The queue is in use by contenders with a different rule (e.g. another permit count).</exception>
    public abstract TurnDecision Decide(string key, IReadOnlyList<string> ordered, int index);

    /// <summary>The marker between the owner id and the sequence (<c>S3-</c>, <c>R-</c>, <c>W-</c>; empty for the lock).</summary>
    public static string MarkerOf(string child)
    {
        // <32-hex owner>-<marker><10-digit sequence>
        var start = child.IndexOf('-', StringComparison.Ordinal) + 1;
        var length = child.Length - 10 - start;
        return start <= 0 || length <= 0 ? string.Empty : child.Substring(start, length);
    }

    private sealed class ExclusiveRule : QueueTurnRule
    {
        public override TurnDecision Decide(string key, IReadOnlyList<string> ordered, int index) =>
            index == 0 ? TurnDecision.Granted : TurnDecision.Wait([ordered[index - 1]], grantedWhenAnyGoes: index == 1);
    }

    private sealed class SemaphoreRule(int permits) : QueueTurnRule
    {
        public override TurnDecision Decide(string key, IReadOnlyList<string> ordered, int index)
        {
            // The oldest node carries the count in use: a newcomer with another count is refused, and a refused
            // node on its way out never makes the contenders behind it fail.
            var oldest = MarkerOf(ordered[0]);
            if (oldest != LockShape.Semaphore(permits).NodeMarker && oldest.Length > 2 && oldest[0] == 'S'
                && int.TryParse(oldest.AsSpan(1, oldest.Length - 2), out var inUse))
            {
                throw LockShape.PermitMismatch(key, inUse, permits);
            }

            if (index < permits)
            {
                return TurnDecision.Granted;
            }

            var watch = new string[permits];
            for (var i = 0; i < permits; i++)
            {
                watch[i] = ordered[index - permits + i];
            }

            return TurnDecision.Wait(watch, grantedWhenAnyGoes: index == permits); // exactly N ahead: one leaving grants
        }
    }

    private sealed class ReadRule : QueueTurnRule
    {
        public override TurnDecision Decide(string key, IReadOnlyList<string> ordered, int index)
        {
            for (var i = index - 1; i >= 0; i--)
            {
                if (MarkerOf(ordered[i]) == "W-")
                {
                    // The only writer ahead leaving grants the reader.
                    var onlyWriter = true;
                    for (var j = i - 1; j >= 0 && onlyWriter; j--)
                    {
                        onlyWriter = MarkerOf(ordered[j]) != "W-";
                    }

                    return TurnDecision.Wait([ordered[i]], grantedWhenAnyGoes: onlyWriter);
                }
            }

            return TurnDecision.Granted;
        }
    }
}

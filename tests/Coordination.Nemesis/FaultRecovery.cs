namespace Coordination.Nemesis;

/// <summary>One applied fault: when it started and ended (servers answering, process resumed, replacement started) and the next grant after its end.</summary>
internal sealed record FaultRecovery(string Kind, int Id, long Start, long End, long? NextGrant, bool Wedged)
{
    /// <summary>Ticks from the fault's end to the next grant, when there was one.</summary>
    public long? Recovery => NextGrant - End;
}

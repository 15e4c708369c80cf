using System.Diagnostics.Tracing;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// Samples what a workload allocates by type: the runtime's GCAllocationTick event names the type of the object that
/// crossed each ~100 KB of allocation, so over many iterations the counts are proportional to bytes per type.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private bool _on;

    public void Start()
    {
        lock (_bytes)
        {
            _bytes.Clear();
            _on = true;
        }
    }

    public IReadOnlyList<(string Type, long Bytes)> Stop()
    {
        lock (_bytes)
        {
            _on = false;
            return _bytes.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key, kv.Value)).ToList();
        }
    }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick at verbose
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not "GCAllocationTick_V4" and not "GCAllocationTick_V3" || e.Payload is null)
        {
            return;
        }

        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        lock (_bytes)
        {
            if (_on)
            {
                _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
            }
        }
    }
}

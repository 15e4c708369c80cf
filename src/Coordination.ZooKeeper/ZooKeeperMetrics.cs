using System.Diagnostics.Metrics;

namespace Coordination.ZooKeeper;

/// <summary>Instruments of the meter <c>Coordination.ZooKeeper</c>.</summary>
internal static class ZooKeeperMetrics
{
    public const string MeterName = "Coordination.ZooKeeper";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("coordination.zookeeper.requests", "{request}", "Requests sent to ZooKeeper.");

    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("coordination.zookeeper.request.duration", "ms", "Time from send to reply of ZooKeeper requests.");

    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("coordination.zookeeper.reconnects", "{reconnect}", "Connections re-established for an existing session.");

    public static readonly Counter<long> Expirations = Meter.CreateCounter<long>("coordination.zookeeper.session_expirations", "{session}", "Sessions the server expired.");
}

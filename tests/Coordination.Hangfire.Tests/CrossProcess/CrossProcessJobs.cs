using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Coordination.Hangfire.Tests.CrossProcess;

/// <summary>Jobs that record enter/exit in Redis so that overlap between OS processes is visible to the test.</summary>
public static class CrossProcessJobs
{
    private static readonly ConcurrentDictionary<string, ConnectionMultiplexer> Connections = new();

    [DistributedLock("xproc:{run}")]
    public static void SameKey(string redis, string run, int n)
    {
        _ = n;
        var db = Connections.GetOrAdd(redis, r => ConnectionMultiplexer.Connect(r)).GetDatabase();
        var prefix = "test:xproc:" + run + ":";
        db.SetAdd(prefix + "pids", Environment.ProcessId);
        db.StringIncrement(prefix + "runs");
        if (db.StringIncrement(prefix + "inside") > 1)
        {
            db.StringIncrement(prefix + "overlaps");
        }

        try
        {
            // Stay inside long enough for an unguarded job on the other node to show up.
            SpinWait.SpinUntil(() => (long)db.StringGet(prefix + "inside") > 1, TimeSpan.FromMilliseconds(150));
        }
        finally
        {
            db.StringDecrement(prefix + "inside");
        }
    }
}

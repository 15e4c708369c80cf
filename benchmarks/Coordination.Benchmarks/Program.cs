using BenchmarkDotNet.Running;
using Coordination.Benchmarks.ZooKeeper;

namespace Coordination.Benchmarks;

/// <summary>
/// Entry point. The first argument picks a custom mode; anything else goes to BenchmarkDotNet
/// (e.g. <c>--filter *RoundTrip*</c>). Add new modes to <see cref="Modes"/>.
/// </summary>
internal static class Program
{
    private static readonly Dictionary<string, (string Help, Func<string[], Task<int>> Run)> Modes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["zk-latency"] = ("--zk host:port [--n 20000] [--seconds 5] [--callers 64] [--zk-tls host:port --zk-tls-plain host:port --ca file]: per-op p50/p99 of the raw-socket floor vs ZooKeeperClient (and on TLS beside plain, same server), and pipelined throughput", ZkLatency.RunAsync),
        ["locks"] = ("--redis host:port --zk host:port [--only uncontended,contended,many-keys,scale,handoff,primitives,alloc] [--n 2000] [--seconds 4] [--handoffs 60] [--processes 1,2,4] [--tasks 4] [--callers 1,4,16,64] [--held 1,100,1000,10000] [--redlock-retry-ms 10] [--out results.json [--merge]]: the lock suites, peers side by side", Locks.LockBench.RunAsync),
        ["locks-handoff-child"] = ("(internal) one side of the two-process hand-off", Locks.LockBench.HandoffChildAsync),
        ["locks-contended-child"] = ("(internal) one process of the contended run", Locks.ContendedBench.ChildAsync),
        ["config"] = ("--redis host:port --zk host:port [--subscribers 10] [--n 300]: write-to-callback propagation and cached read latency", Configuration.ConfigBench.RunAsync),
        ["cluster-pubsub"] = ("--cluster host:port,... [--n 2000]: release bell on a Redis Cluster, classic PUBLISH vs sharded SPUBLISH (wake latency and the per-wait subscribe cost)", Cluster.ClusterPubSubBench.RunAsync),
        ["zk-fake-server"] = ("[--port 2399]: an instant-answer stand-in ZooKeeper (exists/create2/delete/ping) to measure client overhead and pipelining without the real server's cost", FakeZkServer.RunAsync),
    };

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && Modes.TryGetValue(args[0], out var mode))
        {
            return await mode.Run(args[1..]);
        }

        if (args is ["help" or "--help" or "-h", ..])
        {
            foreach (var (name, (help, _)) in Modes)
            {
                Console.WriteLine($"{name} {help}");
            }

            Console.WriteLine("anything else: BenchmarkDotNet switcher (e.g. --filter '*ZooKeeperRoundTrip*'); ZooKeeper benchmarks read COORD_ZK (default 127.0.0.1:2181).");
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Coordination.ZooKeeper;

namespace Coordination.Benchmarks.ZooKeeper;

/// <summary>
/// One request at a time: the raw-socket floor vs <see cref="ZooKeeperClient"/> (and ours with 64 pipelined
/// callers, per operation). Reads the server from COORD_ZK (default 127.0.0.1:2181). For p99 use the
/// <c>zk-latency</c> mode.
/// </summary>
[Config(typeof(Config))]
public class ZooKeeperRoundTripBenchmarks
{
    private const int Callers = 64;
    private RawZk _floor = null!;
    private ZooKeeperClient _ours = null!;
    private string _root = null!;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
            AddDiagnoser(MemoryDiagnoser.Default);
            AddColumn(StatisticColumn.P50, StatisticColumn.P95);
        }
    }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var server = Environment.GetEnvironmentVariable("COORD_ZK") ?? "127.0.0.1:2181";
        _floor = await RawZk.ConnectAsync(server);
        _ours = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectionString = server, SessionTimeout = TimeSpan.FromSeconds(60) });
        _root = "/bdn-" + Guid.NewGuid().ToString("N")[..8];
        await _ours.CreateAsync(_root, ReadOnlyMemory<byte>.Empty);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _floor.Dispose();
        await _ours.DeleteAsync(_root);
        await _ours.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public async Task<bool> Floor_Exists() => await _floor.ExistsAsync(_root);

    [Benchmark]
    public async Task<bool> Ours_Exists() => await _ours.ExistsAsync(_root) is not null;

    [Benchmark]
    public async Task Floor_CreateEphemeralSequentialThenDelete() => await _floor.DeleteAsync(await _floor.CreateEphemeralSequentialAsync(_root + "/f-"));

    [Benchmark]
    public async Task Ours_CreateEphemeralSequentialThenDelete() =>
        await _ours.DeleteAsync((await _ours.CreateAsync(_root + "/o-", ReadOnlyMemory<byte>.Empty, CreateMode.EphemeralSequential)).Path);

    [Benchmark(OperationsPerInvoke = Callers)]
    public Task Ours_Exists_64Pipelined()
    {
        var tasks = new Task[Callers];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = _ours.ExistsAsync(_root);
        }

        return Task.WhenAll(tasks);
    }
}

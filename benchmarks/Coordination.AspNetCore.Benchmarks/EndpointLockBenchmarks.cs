using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Coordination.Locks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coordination.AspNetCore.Benchmarks;

/// <summary>
/// One request through an in-memory TestServer: an endpoint without a lock (baseline), and the same endpoint
/// inside <c>.WithDistributedLock</c> on a fresh key per request, per lock mode. Op/s is requests per second and
/// P50 the median latency, so the lock's p50 overhead is P50(lock) - P50(no lock). InProcess always runs; set
/// <c>COORDINATION_BENCH_MODES=Hybrid,ZooKeeperOnly</c> plus <c>COORDINATION_BENCH_REDIS</c> and
/// <c>COORDINATION_BENCH_ZOOKEEPER</c> to add real-server modes to the same run.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class EndpointLockBenchmarks
{
    private WebApplication? _app;
    private HttpClient? _client;
    private long _next;

    [ParamsSource(nameof(Modes))]
    public LockMode Mode { get; set; }

    public static IEnumerable<LockMode> Modes() =>
        new[] { LockMode.InProcess }.Concat(
            (Environment.GetEnvironmentVariable("COORDINATION_BENCH_MODES") ?? string.Empty)
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(m => Enum.Parse<LockMode>(m, ignoreCase: true)));

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddHybridCoordination(o =>
        {
            o.Mode = Mode;
            o.Redis = Environment.GetEnvironmentVariable("COORDINATION_BENCH_REDIS") ?? "127.0.0.1:6379";
            o.ZooKeeper = Environment.GetEnvironmentVariable("COORDINATION_BENCH_ZOOKEEPER") ?? "127.0.0.1:2181";
        }).AddDistributedLockEndpoints();
        _app = builder.Build();
        _app.UseDistributedLocks();
        _app.MapGet("/plain/{id}", (string id) => id);
        _app.MapGet("/locked/{id}", (string id) => id).WithDistributedLock("bench:{id}");
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Benchmark(Baseline = true)]
    public Task<string> NoLock() => _client!.GetStringAsync($"/plain/{Interlocked.Increment(ref _next)}");

    [Benchmark]
    public Task<string> LockDistinctKeys() => _client!.GetStringAsync($"/locked/{Interlocked.Increment(ref _next)}");

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(StatisticColumn.P50, StatisticColumn.P95, StatisticColumn.OperationsPerSecond);
        }
    }
}

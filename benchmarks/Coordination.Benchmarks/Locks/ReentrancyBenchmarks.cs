using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// What the provider front costs per uncontended acquire + release, with the flow's lock scope (issue 22), on the
/// InProcess provider (no servers, so the front is all there is) next to the in-process floor, SemaphoreSlim: the flow
/// holding nothing (the re-entry check is one AsyncLocal read, then the hold is recorded), holding one other key (the
/// check walks one hold), and a nested acquire of a held key (no queue at all). Each invocation runs
/// <see cref="Ops"/> cycles in one flow; no servers needed: <c>dotnet run -c Release -- --filter '*ReentrancyBenchmarks*'</c>.
/// </summary>
[Config(typeof(Config))]
public class ReentrancyBenchmarks
{
    private const int Ops = 1000;
    private readonly SemaphoreSlim _semaphore = new(1, 1);
    private ServiceProvider _services = null!;
    private IDistributedLockProvider _locks = null!;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
            AddDiagnoser(MemoryDiagnoser.Default);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddHybridCoordination(o => o.Mode = LockMode.InProcess);
        _services = services.BuildServiceProvider();
        _locks = _services.GetRequiredService<IDistributedLockProvider>();
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public async Task SemaphoreSlim_WaitRelease()
    {
        for (var i = 0; i < Ops; i++)
        {
            await _semaphore.WaitAsync();
            _semaphore.Release();
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public async Task InProcess_AcquireRelease_HoldingNothing()
    {
        for (var i = 0; i < Ops; i++)
        {
            var h = await _locks.AcquireAsync("bench");
            await h.DisposeAsync();
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public async Task InProcess_AcquireRelease_HoldingAnotherKey()
    {
        await using var other = await _locks.AcquireAsync("bench:other");
        for (var i = 0; i < Ops; i++)
        {
            var h = await _locks.AcquireAsync("bench");
            await h.DisposeAsync();
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public async Task InProcess_NestedAcquireRelease()
    {
        await using var outer = await _locks.AcquireAsync("bench:held");
        for (var i = 0; i < Ops; i++)
        {
            var h = await _locks.AcquireAsync("bench:held");
            await h.DisposeAsync();
        }
    }
}

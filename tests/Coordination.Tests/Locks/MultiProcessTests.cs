using System.Diagnostics;
using Coordination.Locks;
using Coordination.Testing;

namespace Coordination.Tests.Locks;

/// <summary>Real OS processes (tests/Coordination.LockWorker) contending for one key.</summary>
public sealed class MultiProcessTests
{
    internal static string WorkerDll()
    {
        // tests/Coordination.Tests/bin/<Configuration>/net10.0/ -> tests/Coordination.LockWorker/bin/<Configuration>/net10.0/
        var here = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = here.Parent!.Name;
        var tests = here.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(tests, "Coordination.LockWorker", "bin", configuration, "net10.0", "Coordination.LockWorker.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build tests/Coordination.LockWorker first ({dll}).");
    }

    internal static Process StartWorker(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(WorkerDll());
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("worker did not start");
    }

    /// <summary>Waits for each hammer worker and checks it exited cleanly with no fencing violation; kills the rest on failure.</summary>
    internal static async Task AssertHammerWorkersDoneAsync(IReadOnlyList<Process> workers)
    {
        try
        {
            foreach (var w in workers)
            {
                var output = w.StandardOutput.ReadToEndAsync();
                var error = w.StandardError.ReadToEndAsync();
                await w.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
                Assert.True(w.ExitCode == 0, $"worker failed: {await output} {await error}");
                Assert.Equal("DONE 0", (await output).Trim());
            }
        }
        finally
        {
            foreach (var w in workers.Where(w => !w.HasExited))
            {
                w.Kill(true);
            }
        }
    }

    [Theory]
    [InlineData(LockMode.Hybrid)]
    [InlineData(LockMode.ZooKeeperOnly)]
    [InlineData(LockMode.RedisOnly)]
    public async Task ThreeProcesses_HammeringOneKey_LoseNoUpdate_AndTokensIncrease(LockMode mode)
    {
        var prefix = "t" + TestNamespace.NewId() + ":";
        var root = "/t" + TestNamespace.NewId();
        const int Tasks = 4, Iterations = 15, Processes = 3;
        var workers = Enumerable.Range(0, Processes)
            .Select(_ => StartWorker("hammer", mode.ToString(), TestEnv.Redis, TestEnv.ZooKeeper, prefix, root, "hot-key", Tasks.ToString(System.Globalization.CultureInfo.InvariantCulture), Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        try
        {
            await AssertHammerWorkersDoneAsync(workers);

            var counter = (long)await TestEnv.RedisDb.StringGetAsync(prefix + "counter");
            Assert.Equal(Tasks * Iterations * Processes, counter);
        }
        finally
        {
            foreach (var w in workers.Where(w => !w.HasExited))
            {
                w.Kill(true);
            }
        }
    }

    [Theory]
    [InlineData(LockMode.Hybrid)]
    [InlineData(LockMode.ZooKeeperOnly)]
    [InlineData(LockMode.RedisOnly)]
    public async Task ThreeProcesses_HammeringASemaphoreOfThree_NeverHoldMoreThanThree_AndReachThree(LockMode mode)
    {
        var prefix = "t" + TestNamespace.NewId() + ":";
        var root = "/t" + TestNamespace.NewId();
        const int Tasks = 4, Iterations = 10, Processes = 3, Permits = 3;
        var workers = Enumerable.Range(0, Processes)
            .Select(_ => StartWorker("semhammer", mode.ToString(), TestEnv.Redis, TestEnv.ZooKeeper, prefix, root, "hot-semaphore", Tasks.ToString(System.Globalization.CultureInfo.InvariantCulture), Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture), Permits.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        await AssertHammerWorkersDoneAsync(workers);
        Assert.Equal(Permits, (long)await TestEnv.RedisDb.StringGetAsync(prefix + "max"));
        Assert.Equal(Tasks * Iterations * Processes, await TestEnv.RedisDb.SetLengthAsync(prefix + "tokens"));
    }

    [Fact]
    public async Task HolderPausedPastTheSessionTimeout_LosesTheLock_AndAnotherProcessAcquires()
    {
        var prefix = "t" + TestNamespace.NewId() + ":";
        var root = "/t" + TestNamespace.NewId();
        var worker = StartWorker("hold", nameof(LockMode.Hybrid), TestEnv.Redis, TestEnv.ZooKeeper, prefix, root, "paused-key", "2000");
        try
        {
            var first = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("ACQUIRED ", first, StringComparison.Ordinal);
            var token = long.Parse(first!["ACQUIRED ".Length..], System.Globalization.CultureInfo.InvariantCulture);

            await using var other = new LockNode(LockMode.Hybrid, prefix, root);
            Assert.Null(await other.Locks.TryAcquireAsync("paused-key"));
            using (Process.Start("kill", $"-STOP {worker.Id}"))
            {
            }

            try
            {
                // The paused holder's session expires (2 s); the waiter is then granted by ZooKeeper.
                await using var next = await other.Locks.AcquireAsync("paused-key", TimeSpan.FromSeconds(30));
                Assert.True(next.FencingToken > token);
            }
            finally
            {
                using (Process.Start("kill", $"-CONT {worker.Id}"))
                {
                }
            }

            var lost = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.StartsWith("LOST ", lost, StringComparison.Ordinal);
            await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            if (!worker.HasExited)
            {
                worker.Kill(true);
            }
        }
    }
}

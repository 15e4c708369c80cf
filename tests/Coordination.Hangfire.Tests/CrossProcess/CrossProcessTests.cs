using Coordination.Hangfire.Tests.Infrastructure;
using Coordination.Locks;
using Hangfire;
using Hangfire.Redis.StackExchange;
using Hangfire.States;

namespace Coordination.Hangfire.Tests.CrossProcess;

/// <summary>Runs only when the fixture's lock mode excludes across processes (not InProcess).</summary>
public sealed class CrossProcessFactAttribute : FactAttribute
{
    public CrossProcessFactAttribute()
    {
        var options = new HybridCoordinationOptions();
        HangfireFixture.ConfigureLocks(options);
        if (options.Mode == LockMode.InProcess && Environment.GetEnvironmentVariable("COORDINATION_TEST_FORCE_CROSS_PROCESS") != "1")
        {
            Skip = "The fixture's lock mode is InProcess, which cannot exclude across OS processes; switch HangfireFixture.ConfigureLocks to a distributed mode.";
        }
    }
}

public sealed class CrossProcessTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [CrossProcessFact]
    public async Task SameKeyJobs_OnServersInTwoOsProcesses_NeverOverlap()
    {
        var run = Probe.NewRun();
        var prefix = $"test:{run}:hangfire:";
        var storage = new RedisStorage(redis.Endpoint, new RedisStorageOptions { Prefix = prefix });
        using var a = new NodeProcess(redis.Endpoint, prefix, workers: 2);
        using var b = new NodeProcess(redis.Endpoint, prefix, workers: 2);
        await a.Ready;
        await b.Ready;

        var client = new BackgroundJobClient(storage);
        var ids = Enumerable.Range(0, 10).Select(n => client.Enqueue(() => CrossProcessJobs.SameKey(redis.Endpoint, run, n))).ToList();
        foreach (var id in ids)
        {
            await HangfireFixture.WaitForStateAsync(storage, id, SucceededState.StateName);
        }

        var db = redis.Connection.GetDatabase();
        var keyPrefix = "test:xproc:" + run + ":";
        Assert.Equal(10, (long)await db.StringGetAsync(keyPrefix + "runs"));
        Assert.Equal(0, (long?)await db.StringGetAsync(keyPrefix + "overlaps") ?? 0);
        Assert.Equal(2, await db.SetLengthAsync(keyPrefix + "pids"));
    }
}

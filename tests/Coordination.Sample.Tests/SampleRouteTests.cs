using System.Net;
using System.Text.Json;
using Coordination.Testing;

namespace Coordination.Sample.Tests;

/// <summary>Every route of samples/WebApp, exercised over HTTP on two real instances sharing Redis and ZooKeeper.</summary>
[Collection(SampleCollection.Name)]
public sealed class SampleRouteTests(SampleCluster cluster)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StartPageAndDashboardPage_AreServedAsHtml()
    {
        foreach (var path in new[] { "/", "/coordination" })
        {
            using var response = await cluster.A.Client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        }

        var dashboard = await cluster.A.Client.GetStringAsync(new Uri("/coordination", UriKind.Relative));
        Assert.Contains("/coordination/api/snapshot", dashboard, StringComparison.Ordinal); // the library's page
    }

    [Fact]
    public async Task Dashboard_ShowsTheSchedulerElection_BothInstancesNameTheSameLeader_AndItsSchedulerTicks()
    {
        static JsonElement Scheduler(JsonElement snapshot) => snapshot.GetProperty("elections").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "scheduler");

        await Poll.UntilAsync(
            async () => Scheduler(await cluster.A.Client.GetDashboardSnapshotAsync()).GetProperty("leader") is { ValueKind: JsonValueKind.Object } leader
                && leader.GetProperty("instance").ValueKind == JsonValueKind.String,
            Deadline,
            "the scheduler election has a leader mapped to an instance");
        var a = await cluster.A.Client.GetDashboardSnapshotAsync();
        var b = await cluster.B.Client.GetDashboardSnapshotAsync();
        var (ea, eb) = (Scheduler(a), Scheduler(b));
        Assert.Equal(ea.GetProperty("leader").GetProperty("fencingToken").GetInt64(), eb.GetProperty("leader").GetProperty("fencingToken").GetInt64());
        static bool Leads(JsonElement e) => e.GetProperty("local").GetProperty("isLeader").GetBoolean();
        Assert.True(Leads(ea) ^ Leads(eb), "exactly one instance leads");
        var leader = Leads(ea) ? cluster.A : cluster.B;
        Assert.EndsWith(":" + leader.BaseAddress.Port, ea.GetProperty("leader").GetProperty("instance").GetString(), StringComparison.Ordinal);
        await Poll.UntilAsync(
            async () => (await leader.Client.GetJsonAsync("api/scheduler")).GetProperty("ticks").GetInt64() > 0,
            Deadline,
            "the leader-only scheduler ticks on the leader");
    }

    [Fact]
    public async Task ProcessOrder_WhileAnotherInstanceHoldsTheKey_Returns409_ThenSucceedsWithALargerFencingToken()
    {
        var id = "o-" + Guid.NewGuid().ToString("N")[..8];
        var key = "orders:" + id;
        var holding = cluster.A.Client.PostJsonAsync($"api/orders/{id}/process?holdMs=3000");
        await Poll.UntilAsync(async () => await cluster.B.Client.FindHeldLockAsync(key) is not null, Deadline, $"{key} listed as held");

        using (var contended = await cluster.B.Client.PostAsync(new Uri($"api/orders/{id}/process", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Conflict, contended.StatusCode);
            Assert.Equal("application/problem+json", contended.Content.Headers.ContentType?.MediaType);
        }

        var first = await holding;
        Assert.Equal(key, first.GetProperty("key").GetString());
        Assert.Equal(cluster.A.Name, first.GetProperty("instance").GetString());
        var firstToken = first.GetProperty("fencingToken").GetInt64();
        Assert.True(firstToken > 0, $"fencing token {firstToken}");

        var second = await cluster.B.Client.PostJsonAsync($"api/orders/{id}/process");
        Assert.Equal(cluster.B.Name, second.GetProperty("instance").GetString());
        Assert.True(second.GetProperty("fencingToken").GetInt64() > firstToken, $"second token {second.GetProperty("fencingToken")} after {firstToken}");
    }

    [Fact]
    public async Task Increment_200ConcurrentCallsSpreadOverTwoInstances_EndsAtExactly200()
    {
        var name = "c-" + Guid.NewGuid().ToString("N")[..12];
        var calls = Enumerable.Range(0, 200)
            .Select(i => cluster.Instances[i % 2].Client.PostJsonAsync($"api/counters/{name}/increment"))
            .ToArray();
        var results = await Task.WhenAll(calls);

        // Each call saw a distinct value: no two read-modify-writes overlapped.
        var values = results.Select(r => r.GetProperty("value").GetInt64()).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, 200).Select(v => (long)v), values);
        Assert.Equal(2, results.Select(r => r.GetProperty("instance").GetString()).Distinct().Count());
        foreach (var instance in cluster.Instances)
        {
            var current = await instance.Client.GetJsonAsync($"api/counters/{name}");
            Assert.Equal(200, current.GetProperty("value").GetInt64());
        }
    }

    [Fact]
    public async Task Discovery_ListsBothInstancesUnderWebapp()
    {
        var expected = cluster.Instances.Select(i => i.BaseAddress.ToString().TrimEnd('/')).Order().ToArray();
        string[] seen = [];
        await Poll.UntilAsync(
            async () =>
            {
                var body = await cluster.A.Client.GetJsonAsync("api/discovery/webapp");
                seen = [.. body.GetProperty("instances").EnumerateArray()
                    .SelectMany(i => i.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()!.TrimEnd('/')))
                    .Order()];
                return seen.SequenceEqual(expected);
            },
            Deadline,
            $"both instances registered ({string.Join(", ", expected)})");
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task Config_ChangeWrittenThroughOneInstance_ShowsUpInTheOthersApiConfig()
    {
        var seeded = await cluster.B.Client.GetJsonAsync("api/config");
        Assert.Equal(cluster.ConfigPath, seeded.GetProperty("path").GetString());
        Assert.Equal("Live", seeded.GetProperty("state").GetString());
        Assert.Equal("2000", seeded.GetProperty("values").GetProperty("Orders:DefaultHoldMs").GetString());

        var key = "Test" + Guid.NewGuid().ToString("N")[..8];
        var value = "v-" + Guid.NewGuid().ToString("N");
        using (var put = await cluster.A.Client.PutAsync(new Uri($"api/config/{key}", UriKind.Relative), new StringContent(value)))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        JsonElement config = default;
        await Poll.UntilAsync(
            async () =>
            {
                config = await cluster.B.Client.GetJsonAsync("api/config");
                // The values are updated just before the change callbacks run: wait for both.
                return config.GetProperty("values").TryGetProperty(key, out var v) && v.GetString() == value
                    && config.GetProperty("lastChangedAt").ValueKind != JsonValueKind.Null
                    && config.GetProperty("recentChanges").EnumerateArray().Any(c => c.GetProperty("keys").EnumerateArray().Any(k => k.GetString() == key));
            },
            Deadline,
            $"{key}={value} in B's /api/config");
        Assert.NotEqual(JsonValueKind.Null, config.GetProperty("lastChangedAt").ValueKind);
        Assert.Contains(config.GetProperty("recentChanges").EnumerateArray(), c => c.GetProperty("keys").EnumerateArray().Any(k => k.GetString() == key));
    }

    [Fact]
    public async Task Health_IsJsonWithRedisZooKeeperModeAndConfigurationChecks()
    {
        using var response = await cluster.A.Client.GetAsync(new Uri("health", UriKind.Relative));
        var health = await Http.ReadJsonAsync(response, HttpStatusCode.OK);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        var checks = health.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        foreach (var name in new[] { "coordination-redis", "coordination-zookeeper", "coordination-mode", "coordination-config" })
        {
            Assert.True(checks.TryGetValue(name, out var status), $"check {name} missing from /health: {health}");
            Assert.Equal("Healthy", status);
        }
    }

    [Fact]
    public async Task ReportRebuild_SingletonAspect_SkipsASecondCallWhileTheFirstRuns()
    {
        var tenant = "t-" + Guid.NewGuid().ToString("N")[..8];
        var running = cluster.A.Client.PostJsonAsync($"api/reports/{tenant}/rebuild?holdMs=3000");
        await Poll.UntilAsync(async () => await cluster.B.Client.FindHeldLockAsync("reports:" + tenant) is not null, Deadline, $"reports:{tenant} held");

        await cluster.B.Client.PostJsonAsync($"api/reports/{tenant}/rebuild", HttpStatusCode.Conflict);
        var done = await running;
        Assert.Equal(tenant, done.GetProperty("tenant").GetString());
        Assert.Equal(cluster.A.Name, done.GetProperty("instance").GetString());

        var again = await cluster.B.Client.PostJsonAsync($"api/reports/{tenant}/rebuild");
        Assert.Equal(cluster.B.Name, again.GetProperty("instance").GetString());
    }

    [Fact]
    public async Task HangfireReportJob_EnqueuedWhileOneRuns_IsSkippedOrRescheduledAcrossInstances()
    {
        var first = (await cluster.A.Client.PostJsonAsync("api/jobs/report?onContention=skip&seconds=10")).GetProperty("jobId").GetString();
        await Poll.UntilAsync(async () => await cluster.B.Client.FindHeldLockAsync("jobs:report") is not null, Deadline, "jobs:report held by the first job");

        var skipped = (await cluster.B.Client.PostJsonAsync("api/jobs/report?onContention=skip&seconds=0")).GetProperty("jobId").GetString();
        var rescheduled = (await cluster.B.Client.PostJsonAsync("api/jobs/report?onContention=reschedule&seconds=0")).GetProperty("jobId").GetString();

        var skippedJob = await WaitForStateAsync(skipped!, "Deleted");
        Assert.Contains("skipped: lock 'jobs:report' held", skippedJob.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var rescheduledJob = await WaitForStateAsync(rescheduled!, "Scheduled");
        Assert.StartsWith("rescheduled in", rescheduledJob.GetProperty("reason").GetString(), StringComparison.Ordinal);
        await WaitForStateAsync(first!, "Succeeded");
    }

    [Fact]
    public async Task HangfireDashboard_ForALocalRequest_ShowsTheRecurringSingletonJob()
    {
        using var response = await cluster.A.Client.GetAsync(new Uri("hangfire/recurring", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("webapp-heartbeat", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProcessOrder_WithANegativeHold_Returns400NamingIt()
    {
        var problem = await cluster.A.Client.PostJsonAsync($"api/orders/{Guid.NewGuid():N}/process?holdMs=-1", HttpStatusCode.BadRequest);
        Assert.Contains("holdMs=-1", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private async Task<JsonElement> WaitForStateAsync(string jobId, string state)
    {
        JsonElement job = default;
        await Poll.UntilAsync(
            async () =>
            {
                job = await cluster.A.Client.GetJsonAsync($"api/jobs/{jobId}");
                return job.GetProperty("state").GetString() == state;
            },
            TimeSpan.FromSeconds(60),
            $"job {jobId} in state {state}");
        return job;
    }
}

using System.Text.Json;
using Coordination;
using Coordination.AspNetCore;
using Coordination.AspNetCore.RateLimiting;
using Coordination.Configuration;
using Coordination.Discovery;
using Coordination.Hangfire;
using Hangfire;
using Hangfire.Redis.StackExchange;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WebApp;
using WebApp.Jobs;
using WebApp.Services;

// Content root = the build output, so `dotnet WebApp.dll` finds appsettings.json and wwwroot from any directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var sample = builder.Configuration.GetSection("Sample").Get<SampleOptions>() ?? new SampleOptions();
builder.Services.Configure<SampleOptions>(builder.Configuration.GetSection("Sample"));
var redis = builder.Configuration["Coordination:Redis"];
if (string.IsNullOrWhiteSpace(redis) || string.IsNullOrWhiteSpace(builder.Configuration["Coordination:ZooKeeper"]))
{
    throw new InvalidOperationException(
        "Set Coordination:Redis and Coordination:ZooKeeper (environment Coordination__Redis=127.0.0.1:6390 and Coordination__ZooKeeper=127.0.0.1:2191), or start the sample with eng/run-sample.sh.");
}

// Coordination: options bound from the "Coordination" section (Redis, ZooKeeper, Mode, RedisPrefix, ...).
builder.Services.AddHybridCoordination()
    .AddHealthChecks()                                   // coordination-redis, -zookeeper, -mode
    .AddZooKeeperConfiguration(sample.ConfigPath)        // live IConfiguration from ZooKeeper
    .AddConfigurationHealthCheck()                       // coordination-config
    .AddServiceRegistration(sample.ServiceName)          // announces its process, so the dashboard names lock holders
    .AddServiceDiscovery()
    .AddDistributedLockEndpoints(o => o.RetryAfter = TimeSpan.FromSeconds(1))
    .AddSingletonAspects()
    .AddLeaderElection("scheduler");                     // one instance leads; the others wait in join order

// Runs only on the leader of "scheduler"; stops when leadership ends, starts again on re-election.
builder.Services.AddLeaderService<SchedulerService>("scheduler");

// Hangfire on the same Redis: instances with the same prefix share queues, recurring jobs and the dashboard.
builder.Services.AddHangfire((sp, cfg) => cfg
    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
    .UseSimpleAssemblyNameTypeSerializer()
    .UseRecommendedSerializerSettings()
    .UseRedisStorage(redis, new RedisStorageOptions { Prefix = sample.HangfirePrefix })
    .UseHybridCoordination(sp));
builder.Services.AddHangfireServer(o =>
{
    o.WorkerCount = 4;
    o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
});

// Ctrl+C should not wait the default 30 s for requests holding a lock for holdMs.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
builder.Services.AddControllers();
builder.Services.AddProblemDetails();
builder.Services.AddSingleton<InstanceInfo>();
builder.Services.AddSingleton<ConfigChangeLog>();
builder.Services.AddSingleton<JobRunLog>();
builder.Services.AddSingleton<SchedulerLog>();
builder.Services.AddSingleton<ReportService>();
builder.Services.AddRateLimiter(o => o.AddDistributedConcurrencyLimiter("payments", permitLimit: 3));
builder.Services.AddHostedService<ConfigSetup>();

var app = builder.Build();

app.UseDefaultFiles();
app.UseStaticFiles();
app.UseRouting();
app.UseDistributedLocks();
app.UseRateLimiter();

// Minimal API, try-once: 200 after holding the lock for holdMs, 409 ProblemDetails while another request holds it.
app.MapPost("/api/orders/{id}/process", async (string id, int? holdMs, HttpContext http, InstanceInfo instance, IOptions<SampleOptions> options) =>
{
    var hold = holdMs ?? 0;
    if (hold < 0 || hold > options.Value.MaxHoldMs)
    {
        return Results.Problem(statusCode: 400, title: "Invalid holdMs", detail: $"holdMs={hold} must be between 0 and {options.Value.MaxHoldMs}.");
    }

    var held = http.Features.GetRequiredFeature<IDistributedLockFeature>();
    await Task.Delay(hold, http.RequestAborted);
    return Results.Ok(new { key = held.Key, fencingToken = held.FencingToken, instance = instance.Name, heldMs = hold });
}).WithDistributedLock("orders:{id}");

// A semaphore on an endpoint: at most 2 exports of one tenant run at once across every instance (409 for a third).
app.MapPost("/api/exports/{tenant}", async (string tenant, int? holdMs, HttpContext http, InstanceInfo instance, IOptions<SampleOptions> options) =>
{
    var hold = Math.Clamp(holdMs ?? 0, 0, options.Value.MaxHoldMs);
    var held = http.Features.GetRequiredFeature<IDistributedLockFeature>();
    await Task.Delay(hold, http.RequestAborted);
    return Results.Ok(new { key = held.Key, fencingToken = held.FencingToken, instance = instance.Name, heldMs = hold });
}).WithDistributedLock("exports:{tenant}", l => l.MaxConcurrency = 2);

// A reader-writer lock: reads of a tenant's settings run together, a write runs alone (and is not starved by reads).
app.MapGet("/api/tenants/{tenant}/settings", async (string tenant, int? holdMs, HttpContext http, InstanceInfo instance, IOptions<SampleOptions> options) =>
{
    await Task.Delay(Math.Clamp(holdMs ?? 0, 0, options.Value.MaxHoldMs), http.RequestAborted);
    return Results.Ok(new { tenant, access = "read", fencingToken = http.Features.GetRequiredFeature<IDistributedLockFeature>().FencingToken, instance = instance.Name });
}).WithDistributedLock("settings:{tenant}", l => l.Access = LockAccess.Read);
app.MapPut("/api/tenants/{tenant}/settings", async (string tenant, int? holdMs, HttpContext http, InstanceInfo instance, IOptions<SampleOptions> options) =>
{
    await Task.Delay(Math.Clamp(holdMs ?? 0, 0, options.Value.MaxHoldMs), http.RequestAborted);
    return Results.Ok(new { tenant, access = "write", fencingToken = http.Features.GetRequiredFeature<IDistributedLockFeature>().FencingToken, instance = instance.Name });
}).WithDistributedLock("settings:{tenant}", l => l.Access = LockAccess.Write);

// A cluster-wide concurrency limiter: at most 3 payment calls in flight from all instances (503 + Retry-After beyond).
app.MapPost("/api/payments", async (int? holdMs, HttpContext http, InstanceInfo instance, IOptions<SampleOptions> options) =>
{
    await Task.Delay(Math.Clamp(holdMs ?? 0, 0, options.Value.MaxHoldMs), http.RequestAborted);
    return Results.Ok(new { paid = true, instance = instance.Name });
}).RequireRateLimiting("payments");

// The compile-time aspect: ReportService.RebuildAsync is [Singleton("reports:{tenant}", OnContention = LockContention.Skip)].
app.MapPost("/api/reports/{tenant}/rebuild", async (string tenant, int? holdMs, ReportService reports, IOptions<SampleOptions> options, CancellationToken ct) =>
{
    var hold = holdMs ?? 0;
    if (hold < 0 || hold > options.Value.MaxHoldMs)
    {
        return Results.Problem(statusCode: 400, title: "Invalid holdMs", detail: $"holdMs={hold} must be between 0 and {options.Value.MaxHoldMs}.");
    }

    var result = await reports.RebuildAsync(tenant, hold, ct);
    return result is null
        ? Results.Problem(statusCode: 409, title: "Skipped", detail: $"A rebuild of '{tenant}' is already running (lock 'reports:{tenant}'); this call was skipped.")
        : Results.Ok(result);
});

app.MapGet("/api/config", (ZooKeeperConfigurationProvider config, ConfigChangeLog changes, InstanceInfo instance) => Results.Ok(new
{
    instance = instance.Name,
    path = config.Path,
    state = config.State.ToString(),
    version = config.Version,
    lastChangedAt = changes.LastChangedAt,
    values = ConfigurationProviderValues.Snapshot(config),
    recentChanges = changes.Recent(),
}));

// Writes one key under the sample's node (ZooKeeper first, then the Redis copy and a refresh message to every instance).
app.MapPut("/api/config/{key}", async (string key, HttpRequest request, IZooKeeperConfigurationWriter writer, CancellationToken ct) =>
{
    using var reader = new StreamReader(request.Body);
    var value = await reader.ReadToEndAsync(ct);
    var version = await writer.SetAsync(key, value, cancellationToken: ct);
    return Results.Ok(new { path = writer.Path, key, value, version });
});

app.MapGet("/api/discovery/{service}", async (string service, IServiceDiscovery discovery, CancellationToken ct) =>
{
    try
    {
        var instances = await discovery.GetInstancesAsync(service, ct);
        return Results.Ok(new { service, instances });
    }
    catch (ArgumentException ex)
    {
        return Results.Problem(statusCode: 400, title: "Invalid service name", detail: ex.Message);
    }
});

// The library's dashboard: locks, semaphores, reader-writer locks, elections, instances, charts (local requests only;
// add .RequireAuthorization("<policy>") to open it to others). Its JSON is /coordination/api/snapshot.
app.MapCoordinationDashboard("/coordination");

// What the leader-only scheduler and the Hangfire jobs did on this instance.
app.MapGet("/api/scheduler", (SchedulerLog scheduler, InstanceInfo instance) => Results.Ok(new
{
    instance = instance.Name,
    ticks = scheduler.Ticks,
    lastFencingToken = scheduler.LastFencingToken,
    lastTickAt = scheduler.LastTickAt,
}));
app.MapGet("/api/jobs", (JobRunLog runs) => Results.Ok(runs.Recent()));

// Hangfire: enqueue the report job twice within its run to see the second one skipped (or rescheduled).
app.MapPost("/api/jobs/report", (string? onContention, int? seconds, IBackgroundJobClient jobs) =>
{
    var s = seconds ?? 10;
    if (s is < 0 or > 300)
    {
        return Results.Problem(statusCode: 400, title: "Invalid seconds", detail: $"seconds={s} must be between 0 and 300.");
    }

    var mode = (onContention ?? "skip").ToLowerInvariant();
    string id = mode switch
    {
        "skip" => jobs.Enqueue<SampleJobs>(j => j.ReportSkipAsync(s, CancellationToken.None)),
        "reschedule" => jobs.Enqueue<SampleJobs>(j => j.ReportRescheduleAsync(s, CancellationToken.None)),
        _ => string.Empty,
    };
    return id.Length == 0
        ? Results.Problem(statusCode: 400, title: "Invalid onContention", detail: $"onContention='{onContention}' must be 'skip' or 'reschedule'.")
        : Results.Ok(new { jobId = id, onContention = mode, seconds = s });
});

app.MapGet("/api/jobs/{id}", (string id, JobStorage storage) =>
{
    var details = storage.GetMonitoringApi().JobDetails(id);
    if (details is null)
    {
        return Results.Problem(statusCode: 404, title: "No such job", detail: $"Job '{id}' does not exist.");
    }

    var history = details.History.Select(h => new { state = h.StateName, reason = h.Reason, at = h.CreatedAt }).ToList();
    return Results.Ok(new { id, state = history.FirstOrDefault()?.state, reason = history.FirstOrDefault()?.reason, history });
});

app.MapHealthChecks("/health", new HealthCheckOptions
{
    ResponseWriter = async (http, report) =>
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        var instance = http.RequestServices.GetRequiredService<InstanceInfo>();
        await JsonSerializer.SerializeAsync(http.Response.Body, new
        {
            status = report.Status.ToString(),
            instance = instance.Name,
            totalMs = report.TotalDuration.TotalMilliseconds,
            checks = report.Entries.Select(e => new
            {
                name = e.Key,
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                durationMs = e.Value.Duration.TotalMilliseconds,
                data = e.Value.Data.ToDictionary(d => d.Key, d => d.Value?.ToString()),
            }),
        }, JsonSerializerOptions.Web, http.RequestAborted);
    },
    ResultStatusCodes =
    {
        [HealthStatus.Healthy] = StatusCodes.Status200OK,
        [HealthStatus.Degraded] = StatusCodes.Status200OK,
        [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
    },
});

app.UseHangfireDashboard("/hangfire"); // local requests only (Hangfire's default authorization)
app.MapControllers();

if (sample.RecurringJobs)
{
    app.Services.GetRequiredService<IRecurringJobManager>()
        .AddOrUpdate<SampleJobs>(SampleJobs.HeartbeatId, j => j.HeartbeatAsync(CancellationToken.None), Cron.Minutely());
}

app.Run();

/// <summary>The sample's entry point; public so WebApplicationFactory&lt;Program&gt; can host it in tests.</summary>
public partial class Program;

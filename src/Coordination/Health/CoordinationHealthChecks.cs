using System.Diagnostics;
using Coordination.Diagnostics;
using Coordination.Locks;
using Coordination.Security;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.Health;

/// <summary>Redis reachable (PING). Down is Degraded in hybrid mode (locks continue on ZooKeeper) and Unhealthy in Redis-only mode.</summary>
internal sealed class RedisHealthCheck(CoordinationConnections connections) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var o = connections.Options;
        if (!connections.HasRedis)
        {
            return HealthCheckResult.Healthy("Redis is not configured.");
        }

        var failure = o.Mode == LockMode.RedisOnly ? HealthStatus.Unhealthy : HealthStatus.Degraded;
        try
        {
            var redis = await connections.GetRedisAsync().WaitAsync(o.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            var sw = Stopwatch.StartNew();
            var latency = await redis.GetDatabase().PingAsync().WaitAsync(o.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Redis answers PING in {latency.TotalMilliseconds:0.###} ms.", new Dictionary<string, object> { ["latencyMs"] = latency.TotalMilliseconds });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // No exception object in the result: health writers may print it, and its message can carry the server's words.
            var tls = connections.RedisTlsProblem is { } refused ? $"; {refused}" : string.Empty;
            return new HealthCheckResult(failure, $"Redis ({Secrets.Redis(o.Redis)}) is unreachable: {connections.Scrub(ex.Message)}{tls}", data: new Dictionary<string, object> { ["error"] = ex.GetType().Name });
        }
    }
}

/// <summary>ZooKeeper session state: Connected is Healthy, Suspended is Degraded, anything else Unhealthy.</summary>
internal sealed class ZooKeeperHealthCheck(CoordinationConnections connections) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!connections.HasZooKeeper)
        {
            return Task.FromResult(HealthCheckResult.Healthy("ZooKeeper is not configured."));
        }

        var zk = connections.GetZooKeeper();
        var data = new Dictionary<string, object>
        {
            ["state"] = zk.State.ToString(),
            ["sessionId"] = $"0x{zk.SessionId:x}",
            ["server"] = zk.ConnectedServer ?? "-",
            ["sessionTimeoutMs"] = zk.NegotiatedSessionTimeout.TotalMilliseconds,
            ["tls"] = zk.UsesTls,
            ["identity"] = connections.ZooKeeperSecurity.Identity,
        };
        var why = zk.LastConnectionError is { } error ? $" The last connection attempt failed: {connections.Scrub(error.Message)}" : string.Empty;
        if (zk.State == ZooKeeperState.Connected && connections.ZooKeeperAccessProblem is { } denied)
        {
            // Check again in the background: a fixed ACL or password turns the check healthy without a restart.
            _ = connections.CheckZooKeeperAccessAsync(zk);
            return Task.FromResult(HealthCheckResult.Unhealthy($"ZooKeeper session 0x{zk.SessionId:x} is connected, but {denied}", data: data));
        }

        var result = zk.State switch
        {
            ZooKeeperState.Connected => HealthCheckResult.Healthy($"ZooKeeper session 0x{zk.SessionId:x} connected to {zk.ConnectedServer}.", data),
            ZooKeeperState.Suspended => HealthCheckResult.Degraded($"ZooKeeper session 0x{zk.SessionId:x} is reconnecting.{why}", data: data),
            _ => HealthCheckResult.Unhealthy($"ZooKeeper session is {zk.State} ({connections.Options.ZooKeeper}).{why}", data: data),
        };
        return Task.FromResult(result);
    }
}

/// <summary>The lock engine's mode: Normal, Degraded (Redis down), Unavailable (ZooKeeper down, fail closed) or unsafe Redis-only.</summary>
internal sealed class DegradedModeHealthCheck(CoordinationStatus status) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["mode"] = status.Mode.ToString(), ["since"] = status.Since.ToString("O") };
        return Task.FromResult(status.Mode switch
        {
            CoordinationHealthMode.Normal => HealthCheckResult.Healthy("Locks run in normal mode.", data),
            CoordinationHealthMode.Degraded => HealthCheckResult.Degraded(status.Reason, data: data),
            CoordinationHealthMode.UnsafeRedisOnly => HealthCheckResult.Degraded(status.Reason, data: data),
            _ => HealthCheckResult.Unhealthy(status.Reason, data: data),
        });
    }
}

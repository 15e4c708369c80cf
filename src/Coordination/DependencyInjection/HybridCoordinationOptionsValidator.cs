using Coordination.Locks;
using Coordination.Security;
using Microsoft.Extensions.Options;

namespace Coordination.DependencyInjection;

/// <summary>Validates <see cref="HybridCoordinationOptions"/> at startup; every message names the option and the bad value.</summary>
internal sealed class HybridCoordinationOptionsValidator : IValidateOptions<HybridCoordinationOptions>
{
    public ValidateOptionsResult Validate(string? name, HybridCoordinationOptions o)
    {
        var errors = new List<string>();
        var p = HybridCoordinationOptions.SectionName;
        if (!Enum.IsDefined(o.Mode))
        {
            errors.Add($"{p}:Mode has the unknown value '{o.Mode}'; use Hybrid, ZooKeeperOnly, RedisOnly or InProcess.");
        }

        var needsRedis = o.Mode is LockMode.Hybrid or LockMode.RedisOnly;
        var needsZk = o.Mode is LockMode.Hybrid or LockMode.ZooKeeperOnly;
        if (needsRedis && string.IsNullOrWhiteSpace(o.Redis))
        {
            errors.Add($"{p}:Redis is required in {o.Mode} mode (a StackExchange.Redis configuration string such as '127.0.0.1:6379').");
        }
        else if (!string.IsNullOrWhiteSpace(o.Redis))
        {
            try
            {
                _ = StackExchange.Redis.ConfigurationOptions.Parse(o.Redis);
            }
            catch (ArgumentException ex)
            {
                errors.Add($"{p}:Redis '{Secrets.Redis(o.Redis)}' is invalid: {Secrets.Scrub(ex.Message, o.SecretValues)}");
            }
        }

        errors.AddRange(RedisSecurity.Problems(p, o.Redis, o.RedisTls));
        errors.AddRange(ZooKeeperSecurity.Problems(p, o.ZooKeeperAuth, o.ZooKeeperTls, o.ZooKeeperAcl));

        if (needsZk)
        {
            if (string.IsNullOrWhiteSpace(o.ZooKeeper))
            {
                errors.Add($"{p}:ZooKeeper is required in {o.Mode} mode (a connection string such as '127.0.0.1:2181/myapp').");
            }
            else
            {
                try
                {
                    _ = Coordination.ZooKeeper.ZooKeeperConnectionString.Parse(o.ZooKeeper);
                }
                catch (ArgumentException ex)
                {
                    errors.Add($"{p}:ZooKeeper '{o.ZooKeeper}' is invalid: {ex.Message}");
                }
            }
        }

        if (string.IsNullOrEmpty(o.RedisPrefix) || o.RedisPrefix.Any(char.IsWhiteSpace) || o.RedisPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            // Braces would become (or break) the Redis Cluster hash tag that keeps one lock's keys in one slot.
            errors.Add($"{p}:RedisPrefix '{o.RedisPrefix}' must be non-empty and contain no whitespace and no '{{' or '}}' (each lock's keys carry their own hash tag).");
        }

        if (string.IsNullOrEmpty(o.ZooKeeperRoot) || o.ZooKeeperRoot[0] != '/' || (o.ZooKeeperRoot.Length > 1 && o.ZooKeeperRoot.EndsWith('/')) || o.ZooKeeperRoot.Contains("//", StringComparison.Ordinal))
        {
            errors.Add($"{p}:ZooKeeperRoot '{o.ZooKeeperRoot}' must be an absolute znode path such as '/coordination' (no trailing or doubled '/').");
        }

        if (o.SessionTimeout < TimeSpan.FromSeconds(1) || o.SessionTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{p}:SessionTimeout '{o.SessionTimeout}' must be between 00:00:01 and 00:10:00.");
        }

        if (o.ConnectTimeout <= TimeSpan.Zero || o.ConnectTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{p}:ConnectTimeout '{o.ConnectTimeout}' must be positive and at most 00:05:00.");
        }

        if (o.ZooKeeperUnavailableAfter <= TimeSpan.Zero || o.ZooKeeperUnavailableAfter > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{p}:ZooKeeperUnavailableAfter '{o.ZooKeeperUnavailableAfter}' must be positive and at most 00:05:00.");
        }

        if (o.OperationTimeout <= TimeSpan.Zero || o.OperationTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{p}:OperationTimeout '{o.OperationTimeout}' must be positive and at most 00:05:00.");
        }

        if (o.RedisLease < TimeSpan.FromSeconds(1) || o.RedisLease > TimeSpan.FromHours(1))
        {
            errors.Add($"{p}:RedisLease '{o.RedisLease}' must be between 00:00:01 and 01:00:00.");
        }

        if (o.MaxKeyLength is < 1 or > 4096)
        {
            errors.Add($"{p}:MaxKeyLength '{o.MaxKeyLength}' must be between 1 and 4096.");
        }

        if (o.LongWaitWarningAfter != Timeout.InfiniteTimeSpan && (o.LongWaitWarningAfter <= TimeSpan.Zero || o.LongWaitWarningAfter > TimeSpan.FromDays(1)))
        {
            errors.Add($"{p}:LongWaitWarningAfter '{o.LongWaitWarningAfter}' must be positive and at most 1.00:00:00, or Infinite (-00:00:00.0010000) to turn the warning off.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

using System.Text.RegularExpressions;
using Coordination;
using Coordination.AspNetCore;
using Microsoft.AspNetCore.Mvc;
using StackExchange.Redis;

namespace WebApp.Controllers;

/// <summary>
/// A counter kept in a plain Redis string and updated with a deliberately slow read-modify-write (GET, delay, SET).
/// Without the lock, concurrent increments lose updates; with <c>[DistributedLock]</c> they queue up across instances.
/// </summary>
[ApiController]
[Route("api/counters")]
public sealed partial class CountersController(ICoordinationConnections connections, InstanceInfo instance) : ControllerBase
{
    /// <summary>Waits (up to a minute) for the lock <c>counters:{name}</c>, then increments the counter.</summary>
    [HttpPost("{name}/increment")]
    [DistributedLock("counters:{name}", Timeout = "00:01:00")]
    public async Task<IActionResult> Increment(string name, CancellationToken cancellationToken)
    {
        if (!ValidName().IsMatch(name))
        {
            return BadName(name);
        }

        var db = (await connections.GetRedisAsync().ConfigureAwait(false)).GetDatabase();
        var key = CounterKey(name);
        var current = (long?)await db.StringGetAsync(key).ConfigureAwait(false) ?? 0;
        await Task.Delay(5, cancellationToken).ConfigureAwait(false); // widen the race a missing lock would lose
        var value = current + 1;
        await db.StringSetAsync(key, value).ConfigureAwait(false);
        var token = HttpContext.Features.Get<IDistributedLockFeature>()?.FencingToken;
        return Ok(new { value, fencingToken = token, instance = instance.Name });
    }

    /// <summary>The counter's current value (0 when it was never incremented).</summary>
    [HttpGet("{name}")]
    public async Task<IActionResult> Get(string name)
    {
        if (!ValidName().IsMatch(name))
        {
            return BadName(name);
        }

        var db = (await connections.GetRedisAsync().ConfigureAwait(false)).GetDatabase();
        var value = (long?)await db.StringGetAsync(CounterKey(name)).ConfigureAwait(false) ?? 0;
        return Ok(new { value, instance = instance.Name });
    }

    private RedisKey CounterKey(string name) => connections.Options.RedisPrefix + "sample:counters:" + name;

    private ObjectResult BadName(string name) =>
        Problem(statusCode: 400, title: "Invalid counter name", detail: $"Counter name '{name}' must be 1-64 characters of letters, digits, '-', '_' or '.'.");

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex ValidName();
}

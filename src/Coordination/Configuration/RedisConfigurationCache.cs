using System.Globalization;
using StackExchange.Redis;

namespace Coordination.Configuration;

/// <summary>
/// The Redis copy of one source: hash <c>&lt;prefix&gt;{config:&lt;root&gt;}:snapshot</c> with fields <c>version</c>
/// (largest zxid) and <c>snapshot</c> (the flattened configuration as JSON), and channel
/// <c>&lt;prefix&gt;config-changed:&lt;root&gt;</c> carrying the version of a write. A Lua compare keeps an older snapshot
/// from ever replacing a newer one.
/// </summary>
/// <remarks>
/// The script touches one key, so it is cluster-safe in any layout; the name still follows the library's key layout
/// (<see cref="Locks.RedisLockRecord.Name"/>: one hash tag per instance) so that any key added for a source later lands
/// in the same slot. The copy before this layout (<c>&lt;prefix&gt;config:&lt;root&gt;</c>) is not read: the source
/// rewrites the copy from ZooKeeper on its first load, and only a start with ZooKeeper down reads it.
/// </remarks>
internal sealed class RedisConfigurationCache(CoordinationConnections connections, string prefix, string root)
{
    // Versions are zxids (epoch << 32 | counter); Lua numbers are doubles, exact below 2^53 (epoch below 2^21).
    private const string SetIfNewerScript = """
        local cur = redis.call('HGET', KEYS[1], 'version')
        if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
        redis.call('HSET', KEYS[1], 'version', ARGV[1], 'snapshot', ARGV[2])
        return 1
        """;

    public RedisKey Key { get; } = Locks.RedisLockRecord.Name(prefix, "config:" + root, "snapshot");

    public RedisChannel Channel { get; } = RedisChannel.Literal(prefix + "config-changed:" + root);

    /// <summary>Reads the snapshot, or null when there is none.</summary>
    /// <exception cref="RedisException">Redis is unreachable.</exception>
    public async Task<ConfigurationSnapshot?> ReadAsync()
    {
        var redis = await connections.GetRedisAsync().ConfigureAwait(false);
        var json = await redis.GetDatabase().HashGetAsync(Key, "snapshot").ConfigureAwait(false);
        return json.IsNullOrEmpty ? null : ConfigurationSnapshot.FromJson(json.ToString());
    }

    /// <summary>Stores <paramref name="snapshot"/> unless Redis already holds the same or a newer version; true when stored.</summary>
    public async Task<bool> WriteIfNewerAsync(ConfigurationSnapshot snapshot)
    {
        var redis = await connections.GetRedisAsync().ConfigureAwait(false);
        var result = await redis.GetDatabase().ScriptEvaluateAsync(SetIfNewerScript, [Key],
            [snapshot.Version.ToString(CultureInfo.InvariantCulture), snapshot.ToJson()]).ConfigureAwait(false);
        return (int)result == 1;
    }

    /// <summary>Tells every instance that version <paramref name="version"/> was written.</summary>
    public async Task PublishAsync(long version)
    {
        var redis = await connections.GetRedisAsync().ConfigureAwait(false);
        await redis.GetSubscriber().PublishAsync(Channel, version.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
    }

    /// <summary>Calls <paramref name="onVersion"/> for every change message (the multiplexer re-subscribes after reconnects).</summary>
    public async Task SubscribeAsync(Action<long> onVersion)
    {
        var redis = await connections.GetRedisAsync().ConfigureAwait(false);
        await redis.GetSubscriber().SubscribeAsync(Channel, (_, value) =>
        {
            if (long.TryParse(value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            {
                onVersion(v);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Stops receiving change messages.</summary>
    public async Task UnsubscribeAsync()
    {
        if (connections.RedisIfCreated is { } redis)
        {
            await redis.GetSubscriber().UnsubscribeAsync(Channel).ConfigureAwait(false);
        }
    }
}

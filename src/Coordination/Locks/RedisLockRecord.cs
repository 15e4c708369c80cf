using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The Redis side of a lock: the record <c>&lt;prefix&gt;lock:&lt;key&gt;</c> whose value is
/// <c>&lt;32-hex owner id&gt;:&lt;JSON metadata&gt;</c>, the fencing counter <c>&lt;prefix&gt;fence:&lt;key&gt;</c>
/// (Redis-only mode), and the release bell channel <c>&lt;prefix&gt;released</c> whose messages are keys.
/// Every conditional change is a Lua script so check-and-act is atomic.
/// </summary>
internal static class RedisLockRecord
{
    /// <summary>KEYS[1] record, ARGV[1] owner id, ARGV[2] channel, ARGV[3] key: delete only our record, then ring the bell.</summary>
    public static readonly LuaScript ReleaseScript = LuaScript.Prepare(
        "local v = redis.call('GET', @record) " +
        "if v and string.sub(v, 1, 32) == @owner then redis.call('DEL', @record) end " +
        "redis.call('PUBLISH', @channel, @key) return 1");

    /// <summary>Delete only our record (a reservation given back), no bell.</summary>
    public static readonly LuaScript CompareDeleteScript = LuaScript.Prepare(
        "local v = redis.call('GET', @record) " +
        "if v and string.sub(v, 1, 32) == @owner then return redis.call('DEL', @record) end return 0");

    /// <summary>Hybrid watchdog: extend our record, re-create it when it vanished (flush/restart); leave another owner's alone (ZooKeeper decides).</summary>
    public static readonly LuaScript ReassertScript = LuaScript.Prepare(
        "local v = redis.call('GET', @record) " +
        "if not v then redis.call('SET', @record, @value, 'PX', @lease) return 2 end " +
        "if string.sub(v, 1, 32) == @owner then redis.call('PEXPIRE', @record, @lease) return 1 end return 0");

    /// <summary>Redis-only watchdog: extend only our own record; 0 means the lease is lost.</summary>
    public static readonly LuaScript ExtendScript = LuaScript.Prepare(
        "local v = redis.call('GET', @record) " +
        "if v and string.sub(v, 1, 32) == @owner then redis.call('PEXPIRE', @record, @lease) return 1 end return 0");

    /// <summary>Redis-only acquire: SET NX PX, then a fencing token from INCR; otherwise minus the remaining lease in ms.</summary>
    public static readonly LuaScript AcquireScript = LuaScript.Prepare(
        "if redis.call('SET', @record, @value, 'NX', 'PX', @lease) then return redis.call('INCR', @fence) end " +
        "local t = redis.call('PTTL', @record) if t < 1 then t = 1 end return -t");

    public static RedisKey RecordKey(string prefix, string key) => prefix + "lock:" + key;

    public static RedisKey FenceKey(string prefix, string key) => prefix + "fence:" + key;

    public static RedisChannel Channel(string prefix) => RedisChannel.Literal(ChannelName(prefix));

    public static string ChannelName(string prefix) => prefix + "released";

    /// <summary>Deletes the handle's record if it is still its own, then rings the bell for its key.</summary>
    public static Task ReleaseAsync(IDatabase db, string prefix, LockHandle handle, CommandFlags flags = CommandFlags.None) =>
        ReleaseScript.EvaluateAsync(db, new
        {
            record = RecordKey(prefix, handle.Key),
            owner = handle.OwnerId,
            channel = ChannelName(prefix),
            key = handle.Key,
        }, flags: flags);

    public static string NewOwnerId() => Guid.NewGuid().ToString("N");

    public static string Value(string ownerId, string key, long fencingToken, DateTimeOffset acquiredAt, string? node)
    {
        // Hand-written JSON: this runs on every acquisition, a serializer and a dictionary would triple its allocations.
        var sb = new System.Text.StringBuilder(160 + key.Length);
        sb.Append(ownerId).Append(":{\"key\":\"").Append(JsonEncodedText.Encode(key).Value)
            .Append("\",\"holder\":\"").Append(Holder)
            .Append("\",\"host\":\"").Append(Host)
            .Append("\",\"token\":").Append(fencingToken.ToString(CultureInfo.InvariantCulture))
            .Append(",\"acquiredAt\":\"").Append(acquiredAt.ToString("O", CultureInfo.InvariantCulture)).Append('"');
        if (node is not null)
        {
            sb.Append(",\"node\":\"").Append(JsonEncodedText.Encode(node).Value).Append('"');
        }

        return sb.Append('}').ToString();
    }

    private static readonly string Host = JsonEncodedText.Encode(Environment.MachineName).Value;

    private static readonly string Holder = JsonEncodedText.Encode(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "@" + Environment.MachineName).Value;

    /// <summary>Errors that mean "Redis is not usable now" (degrade), as opposed to bugs.</summary>
    public static bool IsRedisFailure(Exception ex) =>
        ex is RedisConnectionException or RedisTimeoutException or ObjectDisposedException
        || (ex is RedisServerException && ex.Message.StartsWith("LOADING", StringComparison.Ordinal))
        || (ex is RedisException && ex.Message.Contains("No connection", StringComparison.OrdinalIgnoreCase));
}

using System.Globalization;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The Redis side of semaphores and reader-writer locks: a counting gate. Holders (and gate reservations) are members
/// of a sorted set scored by their lease's expiry in Redis time, so a crashed holder's entry ages out; the holders'
/// metadata (owner id → the same JSON as the lock's record) sits in a hash; Redis-only grants draw fencing tokens from
/// a counter. Every key of one primitive shares the hash tag <c>{K}</c>, so each script touches one cluster slot.
/// </summary>
/// <remarks>
/// <code>
/// shape       own set (capacity)          blocking set (must be empty)   holders / fence
/// Semaphore   &lt;p&gt;{K}:sem   (permits)       &lt;p&gt;{K}:sem:none (never written)  &lt;p&gt;{K}:sem:holders / &lt;p&gt;{K}:sem:fence
/// Read        &lt;p&gt;{K}:rw:r  (unbounded)     &lt;p&gt;{K}:rw:w                       &lt;p&gt;{K}:rw:holders  / &lt;p&gt;{K}:rw:fence
/// Write       &lt;p&gt;{K}:rw:w  (1)             &lt;p&gt;{K}:rw:r                       (same)
/// </code>
/// Acquire (one script): drop expired members of both sets (and their metadata); a semaphore whose holders recorded
/// another permit count (field <c>~permits</c> of the holders hash) is refused; if the blocking set is not empty or
/// the own set is at capacity return minus the milliseconds until the earliest blocking lease runs out; else add the
/// owner with expiry now+lease and return the fencing token (Redis-only) or 1 (the hybrid gate).
/// </remarks>
internal static class RedisPermitRecord
{
    private const string Now = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) ";

    private const string Purge =
        "local function purge(set) " +
        "  local old = redis.call('ZRANGEBYSCORE', set, '-inf', now) " +
        "  if #old > 0 then redis.call('ZREM', set, unpack(old)) redis.call('HDEL', @holders, unpack(old)) end " +
        "end ";

    /// <summary>Takes a permit: token (or 1 for the gate) when granted, else minus the wait in ms until a lease runs out.</summary>
    public static readonly LuaScript AcquireScript = LuaScript.Prepare(
        Now + Purge +
        "purge(@own) purge(@block) " +
        "if @permitted == '1' then " +
        "  local inUse = redis.call('HGET', @holders, '~permits') " +
        "  if inUse and inUse ~= @permits and redis.call('ZCARD', @own) > 0 then return redis.error_reply('PERMITS ' .. inUse) end " +
        "end " +
        "local blocked = redis.call('ZRANGE', @block, 0, 0, 'WITHSCORES') " +
        "if #blocked == 0 and redis.call('ZCARD', @own) >= tonumber(@permits) then blocked = redis.call('ZRANGE', @own, 0, 0, 'WITHSCORES') end " +
        "if #blocked > 0 then local w = tonumber(blocked[2]) - now if w < 1 then w = 1 end return -w end " +
        "redis.call('ZADD', @own, now + tonumber(@lease), @owner) redis.call('PEXPIRE', @own, @lease) " +
        "if @value ~= '' then redis.call('HSET', @holders, @owner, @value) end " +
        "if @permitted == '1' then redis.call('HSET', @holders, '~permits', @permits) end redis.call('PEXPIRE', @holders, @lease) " +
        "if @counted == '1' then return redis.call('INCR', @fence) end return 1");

    /// <summary>
    /// Hybrid: records the holder ZooKeeper granted (over an expired or missing entry) with its metadata, and for a
    /// semaphore the count in use (a waiting caller takes no gate, so its grant is where the count is first written).
    /// </summary>
    public static readonly LuaScript AssertScript = LuaScript.Prepare(
        Now +
        "redis.call('ZADD', @own, now + tonumber(@lease), @owner) redis.call('PEXPIRE', @own, @lease) " +
        "redis.call('HSET', @holders, @owner, @value) " +
        "if @permits ~= '' then redis.call('HSET', @holders, '~permits', @permits) end redis.call('PEXPIRE', @holders, @lease) return 1");

    /// <summary>Redis-only watchdog: extends the holder's lease only while it is still a member; 0 = lost.</summary>
    public static readonly LuaScript ExtendScript = LuaScript.Prepare(
        Now +
        "if not redis.call('ZSCORE', @own, @owner) then return 0 end " +
        "redis.call('ZADD', @own, 'XX', now + tonumber(@lease), @owner) redis.call('PEXPIRE', @own, @lease) " +
        "redis.call('PEXPIRE', @holders, @lease) return 1");

    /// <summary>
    /// KEYS[1] own set, KEYS[2] holders, ARGV[1] owner, ARGV[2] channel, ARGV[3] the primitive's local key, ARGV[4] the
    /// released node's path ('' in Redis-only mode): drops the owner's entry and metadata, then rings the bell.
    /// </summary>
    public const string ReleaseScript =
        "redis.call('ZREM', KEYS[1], ARGV[1]) redis.call('HDEL', KEYS[2], ARGV[1]) " +
        RedisLockRecord.BellMessage + "redis.call('PUBLISH', ARGV[2], m) return 1";

    /// <summary>A gate reservation given back: <c>record</c> is the own set (no bell: nothing was held).</summary>
    public static readonly LuaScript GiveBackScript = LuaScript.Prepare("return redis.call('ZREM', @record, @owner)");

    /// <summary>The keys of <paramref name="shape"/> for <paramref name="key"/>.</summary>
    public static (RedisKey Own, RedisKey Block, RedisKey Holders, RedisKey Fence) Keys(string prefix, string key, LockShape shape)
    {
        var tag = prefix + "{" + key + "}:";
        return shape.Kind switch
        {
            LockKind.Read => (tag + "rw:r", tag + "rw:w", tag + "rw:holders", tag + "rw:fence"),
            LockKind.Write => (tag + "rw:w", tag + "rw:r", tag + "rw:holders", tag + "rw:fence"),
            _ => (tag + "sem", tag + "sem:none", tag + "sem:holders", tag + "sem:fence"),
        };
    }

    /// <summary>
    /// One acquire attempt (see the type's remarks). <paramref name="counted"/> draws a fencing token (Redis-only);
    /// otherwise a grant returns 1. Negative: not granted, minus the wait in ms until a blocking lease runs out.
    /// </summary>
    public static async Task<long> TryAcquireAsync(IDatabase db, string prefix, string key, LockShape shape, string ownerId, string value, TimeSpan lease, bool counted)
    {
        var k = Keys(prefix, key, shape);
        try
        {
            return (long)await AcquireScript.EvaluateAsync(db, new
            {
                own = k.Own,
                block = k.Block,
                holders = k.Holders,
                fence = k.Fence,
                permits = shape.Permits.ToString(CultureInfo.InvariantCulture),
                permitted = shape.Kind == LockKind.Semaphore ? "1" : "0",
                owner = ownerId,
                value,
                lease = (long)lease.TotalMilliseconds,
                counted = counted ? "1" : "0",
            }).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("PERMITS ", StringComparison.Ordinal))
        {
            throw LockShape.PermitMismatch(key, int.Parse(ex.Message.AsSpan(8), CultureInfo.InvariantCulture), shape.Permits);
        }
    }

    /// <summary>Records or re-asserts a granted holder (hybrid: ZooKeeper decided).</summary>
    public static Task AssertAsync(IDatabase db, string prefix, LockHandle handle, TimeSpan lease, CommandFlags flags = CommandFlags.None)
    {
        var k = Keys(prefix, handle.Key, handle.Shape);
        var permits = handle.Shape.Kind == LockKind.Semaphore ? handle.Shape.Permits.ToString(CultureInfo.InvariantCulture) : string.Empty;
        return AssertScript.EvaluateAsync(db, new { own = k.Own, holders = k.Holders, owner = handle.OwnerId, value = handle.RedisValue, lease = (long)lease.TotalMilliseconds, permits }, flags: flags);
    }

    /// <summary>Redis-only watchdog tick for one holder: false when its lease is no longer its own.</summary>
    public static async Task<bool> ExtendAsync(IDatabase db, string prefix, LockHandle handle, TimeSpan lease)
    {
        var k = Keys(prefix, handle.Key, handle.Shape);
        return (long)await ExtendScript.EvaluateAsync(db, new { own = k.Own, holders = k.Holders, owner = handle.OwnerId, lease = (long)lease.TotalMilliseconds }).ConfigureAwait(false) == 1;
    }

    /// <summary>Drops the holder's entry and rings the bell for its primitive's local key.</summary>
    public static Task ReleaseAsync(IDatabase db, string prefix, LockHandle handle, CommandFlags flags = CommandFlags.None)
    {
        var k = Keys(prefix, handle.Key, handle.Shape);
        return db.ScriptEvaluateAsync(ReleaseScript, [k.Own, k.Holders], [handle.OwnerId, RedisLockRecord.ChannelName(prefix), handle.Shape.LocalKey(handle.Key), handle.NodePath ?? string.Empty], flags);
    }
}

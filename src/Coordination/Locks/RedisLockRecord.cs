using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The Redis side of a lock: the record <c>&lt;prefix&gt;{&lt;key&gt;}:lock</c> whose value is
/// <c>&lt;32-hex owner id&gt;:&lt;JSON metadata&gt;</c>, the fencing counter <c>&lt;prefix&gt;{&lt;key&gt;}:fence</c>
/// (Redis-only mode), and the release bell channel <c>&lt;prefix&gt;released</c> whose messages are keys.
/// Every conditional change is a Lua script so check-and-act is atomic.
/// </summary>
/// <remarks>
/// Key layout: every Redis key of one lock (or of any other primitive's instance) is <see cref="Name"/> =
/// <c>&lt;prefix&gt;{&lt;key&gt;}:&lt;suffix&gt;</c>. The braces are a Redis Cluster hash tag, so all keys of one
/// instance hash to one slot and a script may touch them together on a cluster; a key that starts with a brace gets
/// one extra <c>{</c> so the tag is never empty (an empty tag would hash the whole name). The prefix may hold no braces
/// (validated), so the tag is always ours. Before this layout the names were <c>&lt;prefix&gt;lock:&lt;key&gt;</c> and
/// <c>&lt;prefix&gt;fence:&lt;key&gt;</c> (<see cref="LegacyFenceKey"/>), in different slots.
/// </remarks>
internal static class RedisLockRecord
{
    /// <summary>
    /// KEYS[1] record, ARGV[1] owner id, ARGV[2] channel, ARGV[3] key, ARGV[4] the released ZooKeeper node's path (''
    /// in Redis-only mode): delete only our record, then ring the bell (see <see cref="BellMessage"/>). Plain KEYS/ARGV
    /// (no <see cref="LuaScript"/> parameter object): it runs on every release.
    /// </summary>
    public const string ReleaseScript =
        "local v = redis.call('GET', KEYS[1]) " +
        "if v and string.sub(v, 1, 32) == ARGV[1] then redis.call('DEL', KEYS[1]) end " +
        BellMessage + "redis.call('PUBLISH', ARGV[2], m) return 1";

    /// <summary>
    /// Lua building the bell's message <c>m</c> from ARGV[3] (the key) and ARGV[4] (the node path, or ''): the key, or
    /// <c>&lt;key&gt;\n&lt;node name&gt;</c> for a ZooKeeper-decided release, so that only the waiters watching that node wake
    /// (a key never holds a control character, see <see cref="ReleaseBell"/>).
    /// </summary>
    public const string BellMessage = "local m = ARGV[3] if ARGV[4] ~= '' then m = m .. '\\n' .. string.match(ARGV[4], '[^/]+$') end ";

    /// <summary>Delete only our record (a reservation given back), no bell.</summary>
    public static readonly LuaScript CompareDeleteScript = LuaScript.Prepare(
        "local v = redis.call('GET', @record) " +
        "if v and string.sub(v, 1, 32) == @owner then return redis.call('DEL', @record) end return 0");

    /// <summary>
    /// Hybrid watchdog, many records per call: KEYS[i] a record, ARGV[1] the lease in ms, ARGV[i + 1] the owner id of
    /// KEYS[i]. Extends our records; another owner's is left alone (ZooKeeper decides); returns the 1-based indexes of
    /// the records that vanished (flush, restart) for the caller to write again. Every key of one call must be in one
    /// slot on a cluster (one record per call there).
    /// </summary>
    public const string ReassertManyScript =
        "local gone = {} for i = 1, #KEYS do local v = redis.call('GET', KEYS[i]) " +
        "if not v then gone[#gone + 1] = i elseif string.sub(v, 1, 32) == ARGV[i + 1] then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end end " +
        "return gone";

    /// <summary>Redis-only watchdog: extend only our own record; 0 means the lease is lost.</summary>
    public static readonly LuaScript ExtendScript = LuaScript.Prepare(
        "local v = redis.call('GET', @record) " +
        "if v and string.sub(v, 1, 32) == @owner then redis.call('PEXPIRE', @record, @lease) return 1 end return 0");

    /// <summary>
    /// Redis-only acquire: SET NX PX, then a fencing token from INCR; otherwise minus the remaining lease in ms.
    /// 0 = the key has no fencing counter yet (nothing was set): seed it (<see cref="SeedFenceScript"/>) and retry.
    /// </summary>
    public static readonly LuaScript AcquireScript = LuaScript.Prepare(
        "if redis.call('EXISTS', @fence) == 0 then return 0 end " +
        "if redis.call('SET', @record, @value, 'NX', 'PX', @lease) then return redis.call('INCR', @fence) end " +
        "local t = redis.call('PTTL', @record) if t < 1 then t = 1 end return -t");

    /// <summary>
    /// Seeds a fresh fencing counter (KEYS[1]) from the pre-hash-tag counter's value (ARGV[1]) unless it exists: a
    /// key's tokens keep growing across the upgrade. Kept for one release after the layout change.
    /// </summary>
    public static readonly LuaScript SeedFenceScript = LuaScript.Prepare(
        "return redis.call('SET', @fence, @value, 'NX') and 1 or 0");

    /// <summary>The suffix of the lock record.</summary>
    public const string RecordSuffix = "lock";

    /// <summary>
    /// The Redis key <c>&lt;prefix&gt;{&lt;key&gt;}:&lt;suffix&gt;</c>: every key of one lock, semaphore, configuration
    /// source... shares the hash tag <c>{&lt;key&gt;}</c> and so one Redis Cluster slot. Injective in (key, suffix) for
    /// suffixes without <c>}:</c>.
    /// </summary>
    public static string Name(string prefix, string key, string suffix)
    {
        // "}x" would give the empty tag "{}" (whole name hashed, lock and fence in different slots): one more '{'
        // makes the tag "{". Keys starting with '{' get it too, so "{}x" and "}x" stay apart.
        var escape = key.Length > 0 && key[0] is '{' or '}';
        return string.Concat(prefix, escape ? "{{" : "{", key, "}:", suffix);
    }

    /// <summary>The key that <see cref="Name"/> built <paramref name="name"/> from for <paramref name="suffix"/>, or null when it is not such a name.</summary>
    public static string? KeyOf(string name, string prefix, string suffix)
    {
        var head = prefix.Length + 1;
        var tail = suffix.Length + 2;
        if (name.Length <= head + tail || !name.StartsWith(prefix, StringComparison.Ordinal) || name[prefix.Length] != '{'
            || !name.EndsWith("}:" + suffix, StringComparison.Ordinal))
        {
            return null;
        }

        var key = name[head..^tail];
        return key.Length > 1 && key[0] == '{' && key[1] is '{' or '}' ? key[1..] : key;
    }

    public static RedisKey RecordKey(string prefix, string key) => Name(prefix, key, RecordSuffix);

    public static RedisKey FenceKey(string prefix, string key) => Name(prefix, key, "fence");

    /// <summary>The fencing counter's name before the hash-tag layout; read once per key to seed <see cref="FenceKey"/>.</summary>
    public static RedisKey LegacyFenceKey(string prefix, string key) => prefix + "fence:" + key;

    public static RedisChannel Channel(string prefix) => RedisChannel.Literal(ChannelName(prefix));

    public static string ChannelName(string prefix)
    {
        // Every release names the channel: keep the one string of the (one) prefix in use.
        var cached = Volatile.Read(ref s_channel);
        if (cached?.Prefix != prefix)
        {
            Volatile.Write(ref s_channel, cached = new CachedName(prefix, prefix + "released"));
        }

        return cached.Name;
    }

    private static CachedName? s_channel;

    private sealed record CachedName(string Prefix, string Name);

    /// <summary>Deletes the handle's record if it is still its own, then rings the bell for its key.</summary>
    public static Task ReleaseAsync(IDatabase db, string prefix, LockHandle handle, CommandFlags flags = CommandFlags.None) =>
        db.ScriptEvaluateAsync(ReleaseScript, [RecordKey(prefix, handle.Key)], [handle.OwnerId, ChannelName(prefix), handle.Key, handle.NodePath ?? string.Empty], flags);

    public static string NewOwnerId() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// The record's value: <c>&lt;owner id&gt;:{"key":…,"holder":…,"host":…,"token":…,"acquiredAt":…[,"node":…]}</c>.
    /// Hand-written JSON into one exact-size string: this runs on every acquisition (a serializer and a dictionary
    /// tripled its allocations, a StringBuilder doubled them).
    /// </summary>
    public static string Value(string ownerId, string key, long fencingToken, DateTimeOffset acquiredAt, string? node)
    {
        var k = Json(key);
        var n = node is null ? null : Json(node);
        Span<char> token = stackalloc char[20];
        fencingToken.TryFormat(token, out var tokenLength, default, CultureInfo.InvariantCulture);
        Span<char> at = stackalloc char[40];
        acquiredAt.TryFormat(at, out var atLength, "O", CultureInfo.InvariantCulture);
        var length = ownerId.Length + KeyField.Length + k.Length + HolderField.Length + HostField.Length + TokenField.Length + tokenLength
            + AtField.Length + atLength + 1 + (n is null ? 0 : NodeField.Length + n.Length + 1) + 1;
        return string.Create(length, (ownerId, k, n, fencingToken, acquiredAt), static (span, st) =>
        {
            var w = new SpanWriter(span);
            w.Append(st.ownerId);
            w.Append(KeyField);
            w.Append(st.k);
            w.Append(HolderField);
            w.Append(HostField);
            w.Append(TokenField);
            w.Format(st.fencingToken);
            w.Append(AtField);
            w.Format(st.acquiredAt);
            w.Append("\"");
            if (st.n is not null)
            {
                w.Append(NodeField);
                w.Append(st.n);
                w.Append("\"");
            }

            w.Append("}");
        });
    }

    private ref struct SpanWriter(Span<char> span)
    {
        private readonly Span<char> _span = span;
        private int _at;

        public void Append(ReadOnlySpan<char> text)
        {
            text.CopyTo(_span[_at..]);
            _at += text.Length;
        }

        public void Format(long value)
        {
            value.TryFormat(_span[_at..], out var written, default, CultureInfo.InvariantCulture);
            _at += written;
        }

        public void Format(DateTimeOffset value)
        {
            value.TryFormat(_span[_at..], out var written, "O", CultureInfo.InvariantCulture);
            _at += written;
        }
    }

    /// <summary>This process as lock records name their holder: <c>pid@machine</c>.</summary>
    public static readonly string HolderName = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "@" + Environment.MachineName;

    // Initialised after HolderName (static initialisers run in text order).
    private const string KeyField = ":{\"key\":\"";
    private const string TokenField = "\",\"token\":";
    private const string AtField = ",\"acquiredAt\":\"";
    private const string NodeField = ",\"node\":\"";
    private static readonly string HolderField = "\",\"holder\":\"" + JsonEncodedText.Encode(HolderName).Value;
    private static readonly string HostField = "\",\"host\":\"" + JsonEncodedText.Encode(Environment.MachineName).Value;

    /// <summary>A JSON string's content: the text itself when it needs no escaping (the usual key), else JsonEncodedText's.</summary>
    private static string Json(string text)
    {
        foreach (var c in text)
        {
            if (c is < ' ' or > '~' or '"' or '\\' or '<' or '>' or '&' or '\'' or '+' or '`')
            {
                return JsonEncodedText.Encode(text).Value;
            }
        }

        return text;
    }

    /// <summary>
    /// Errors that mean "Redis is not usable now" (degrade or fail closed), as opposed to an answer: connection loss,
    /// timeouts, and the server errors of a node that is starting, read-only or in a cluster reconfiguration (a master
    /// failover answers READONLY, CLUSTERDOWN, TRYAGAIN or MASTERDOWN for a moment).
    /// </summary>
    public static bool IsRedisFailure(Exception ex) =>
        ex is RedisConnectionException or RedisTimeoutException or ObjectDisposedException
        || (ex is RedisServerException && TransientServerErrors.Any(e => ex.Message.StartsWith(e, StringComparison.Ordinal)))
        || (ex is RedisException && ex.Message.Contains("No connection", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Any error from Redis or its client (a failure, a script or command the server refused, a cross-slot request);
    /// the paths that cannot use Redis then skip it (hybrid gate) or fail closed with <see cref="LockUnavailableException"/>.
    /// </summary>
    public static bool IsRedisError(Exception ex) => ex is RedisException || IsRedisFailure(ex);

    private static readonly string[] TransientServerErrors = ["LOADING", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN"];
}

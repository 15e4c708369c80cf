using System.Globalization;
using System.Text.Json;
using Coordination.Keys;
using Coordination.ZooKeeper;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>Builds <see cref="HeldLockInfo"/> from ZooKeeper lock directories and Redis lock records.</summary>
internal sealed class LockInspector(CoordinationConnections connections, LockWaitRegistry? waits = null) : ILockInspector
{
    public IReadOnlyList<LockWaitInfo> GetLongWaits() => waits?.Snapshot() ?? [];

    public async Task<IReadOnlyList<HeldLockInfo>> GetHeldLocksAsync(int limit = 200, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var o = connections.Options;
        var records = await ReadRedisRecordsAsync(limit, cancellationToken).ConfigureAwait(false);
        if (o.Mode is LockMode.RedisOnly or LockMode.InProcess || !connections.HasZooKeeper)
        {
            return [.. records.Values.Select(r => r with { Source = "redis" }).OrderBy(r => r.Key, StringComparer.Ordinal).Take(limit)];
        }

        var zk = await connections.GetConnectedZooKeeperAsync(o.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        var root = o.UnderRoot("locks");
        IReadOnlyList<string> dirs;
        try
        {
            dirs = (await zk.GetChildrenAsync(root, null, cancellationToken).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return [];
        }

        // The directories are read concurrently (pipelined on the session), not one round trip after another.
        var held = await Task.WhenAll(dirs.Order(StringComparer.Ordinal).Select(dir => InspectAsync(zk, root, dir, records, cancellationToken))).ConfigureAwait(false);
        return [.. held.OfType<HeldLockInfo>().Take(limit)];
    }

    private static async Task<HeldLockInfo?> InspectAsync(ZooKeeperClient zk, string root, string dir, Dictionary<string, HeldLockInfo> records, CancellationToken ct)
    {
        IReadOnlyList<string> nodes;
        try
        {
            nodes = (await zk.GetChildrenAsync(root + "/" + dir, null, ct).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return null;
        }

        if (nodes.Count == 0)
        {
            return null;
        }

        var owner = nodes.OrderBy(n => n[^10..], StringComparer.Ordinal).First();
        var stat = await zk.ExistsAsync(root + "/" + dir + "/" + owner, null, ct).ConfigureAwait(false);
        if (stat is null)
        {
            return null;
        }

        var key = LockKey.FromNodeName(dir);
        records.TryGetValue(key, out var meta);
        return new HeldLockInfo(key, stat.Czxid, meta?.Holder, meta?.AcquiredAt ?? DateTimeOffset.FromUnixTimeMilliseconds(stat.Ctime), nodes.Count - 1, "zookeeper");
    }

    private async Task<Dictionary<string, HeldLockInfo>> ReadRedisRecordsAsync(int limit, CancellationToken ct)
    {
        var result = new Dictionary<string, HeldLockInfo>(StringComparer.Ordinal);
        if (!connections.HasRedis)
        {
            return result;
        }

        try
        {
            var redis = await connections.GetRedisAsync().WaitAsync(connections.Options.ConnectTimeout, ct).ConfigureAwait(false);
            var prefix = connections.Options.RedisPrefix;
            var pattern = GlobEscape(prefix) + "{*}:" + RedisLockRecord.RecordSuffix;
            foreach (var endpoint in redis.GetEndPoints())
            {
                var server = redis.GetServer(endpoint);
                if (server.IsReplica || !server.IsConnected)
                {
                    continue;
                }

                var keys = new List<RedisKey>();
                await foreach (var k in server.KeysAsync(pattern: pattern, pageSize: 250).WithCancellation(ct).ConfigureAwait(false))
                {
                    keys.Add(k);
                    if (keys.Count >= limit * 4)
                    {
                        break;
                    }
                }

                // Pipelined GETs (one round trip's wait for all records, and no cross-slot MGET on a cluster).
                var db = redis.GetDatabase();
                var values = await Task.WhenAll(keys.Select(k => db.StringGetAsync(k))).ConfigureAwait(false);
                for (var i = 0; i < keys.Count; i++)
                {
                    var value = (string?)values[i];
                    if (value is { Length: >= 33 } && RedisLockRecord.KeyOf(keys[i]!, prefix, RedisLockRecord.RecordSuffix) is { } key)
                    {
                        result[key] = Parse(key, value[33..]);
                    }
                }
            }
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex) || ex is TimeoutException)
        {
            // Metadata is optional: ZooKeeper still answers who holds what.
        }

        return result;
    }

    private static HeldLockInfo Parse(string key, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            var token = r.TryGetProperty("token", out var t) && t.TryGetInt64(out var tv) ? tv : 0;
            var holder = r.TryGetProperty("holder", out var h) ? h.GetString() : null;
            DateTimeOffset? at = r.TryGetProperty("acquiredAt", out var a) && DateTimeOffset.TryParse(a.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var av) ? av : null;
            return new HeldLockInfo(key, token, holder, at, 0, "redis");
        }
        catch (JsonException)
        {
            return new HeldLockInfo(key, 0, null, null, 0, "redis");
        }
    }

    private static string GlobEscape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal)
        .Replace("?", "\\?", StringComparison.Ordinal).Replace("[", "\\[", StringComparison.Ordinal);
}

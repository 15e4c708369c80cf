using System.Globalization;
using System.Text.Json;
using Coordination.Elections;
using Coordination.Keys;
using Coordination.ZooKeeper;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// Builds the inspector's views from the ZooKeeper queues (<c>locks/</c>, <c>semaphores/</c>, <c>rwlocks/</c>,
/// <c>elections/</c> under the root; see <see cref="LockShape"/> for the layout) and the Redis records. A queue's
/// holders are read with the primitive's own turn rule: the lowest node for a lock, the first maxCount nodes for a
/// semaphore (the oldest node's <c>S&lt;n&gt;-</c> is the count in use), the readers before the first writer or a
/// writer at the head for a reader-writer lock. Holder metadata (process, time) is joined by owner id, the first 32
/// characters of a node's name, with the Redis holders hash; Redis errors only drop that metadata. Long waits come from
/// this process's <see cref="LockWaitRegistry"/>.
/// </summary>
internal sealed class LockInspector(CoordinationConnections connections, LockWaitRegistry? waits = null) : ILockInspector
{
    private const int OwnerIdLength = 32;

    public IReadOnlyList<LockWaitInfo> GetLongWaits() => waits?.Snapshot() ?? [];

    private bool UsesZooKeeper => connections.Options.Mode is LockMode.Hybrid or LockMode.ZooKeeperOnly && connections.HasZooKeeper;

    public async Task<IReadOnlyList<HeldLockInfo>> GetHeldLocksAsync(int limit = 200, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var records = await ReadRedisRecordsAsync(limit, cancellationToken).ConfigureAwait(false);
        if (!UsesZooKeeper)
        {
            return [.. records.Values.Select(r => r with { Source = "redis" }).OrderBy(r => r.Key, StringComparer.Ordinal).Take(limit)];
        }

        var (zk, root, queues) = await ReadQueuesAsync("locks", limit, cancellationToken).ConfigureAwait(false);
        var held = await Task.WhenAll(queues.Select(async q =>
        {
            var owner = q.Ordered[0];
            var stat = await ExistsAsync(zk, root + "/" + q.Dir + "/" + owner, cancellationToken).ConfigureAwait(false);
            if (stat is null)
            {
                return null;
            }

            records.TryGetValue(q.Key, out var meta);
            return new HeldLockInfo(q.Key, stat.Czxid, meta?.Holder, meta?.AcquiredAt ?? DateTimeOffset.FromUnixTimeMilliseconds(stat.Ctime), q.Ordered.Count - 1, "zookeeper");
        })).ConfigureAwait(false);
        return [.. held.OfType<HeldLockInfo>().Take(limit)];
    }

    public async Task<IReadOnlyList<SemaphoreInfo>> GetSemaphoresAsync(int limit = 200, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (!UsesZooKeeper)
        {
            var permits = await ReadRedisPermitsAsync("sem:holders", limit, cancellationToken).ConfigureAwait(false);
            return [.. permits.Select(p => new SemaphoreInfo(p.Key, p.Permits ?? p.Holders.Count, [.. p.Holders.Values], 0, "redis"))];
        }

        var (zk, root, queues) = await ReadQueuesAsync("semaphores", limit, cancellationToken).ConfigureAwait(false);
        var meta = await ReadHoldersHashesAsync(queues.Select(q => q.Key), LockShape.Semaphore(1), cancellationToken).ConfigureAwait(false);
        var result = await Task.WhenAll(queues.Select(async q =>
        {
            var marker = QueueTurnRule.MarkerOf(q.Ordered[0]);
            var maxCount = marker.Length > 2 && marker[0] == 'S' && int.TryParse(marker.AsSpan(1, marker.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 1;
            var granted = q.Ordered.Take(maxCount).ToList();
            var holders = await HoldersAsync(zk, root + "/" + q.Dir, granted, meta.GetValueOrDefault(q.Key), cancellationToken).ConfigureAwait(false);
            return holders.Count == 0 ? null : new SemaphoreInfo(q.Key, maxCount, holders, q.Ordered.Count - granted.Count, "zookeeper");
        })).ConfigureAwait(false);
        return [.. result.OfType<SemaphoreInfo>()];
    }

    public async Task<IReadOnlyList<ReaderWriterLockInfo>> GetReaderWriterLocksAsync(int limit = 200, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (!UsesZooKeeper)
        {
            var permits = await ReadRedisPermitsAsync("rw:holders", limit, cancellationToken).ConfigureAwait(false);
            return [.. permits.Select(p =>
            {
                var writer = p.Writers.Select(w => p.Holders.GetValueOrDefault(w)).FirstOrDefault(h => h is not null);
                var readers = p.Holders.Where(h => !p.Writers.Contains(h.Key)).Select(h => h.Value).ToList();
                return new ReaderWriterLockInfo(p.Key, readers, writer, 0, "redis");
            })];
        }

        var (zk, root, queues) = await ReadQueuesAsync("rwlocks", limit, cancellationToken).ConfigureAwait(false);
        var meta = await ReadHoldersHashesAsync(queues.Select(q => q.Key), LockShape.Read, cancellationToken).ConfigureAwait(false);
        var result = await Task.WhenAll(queues.Select(async q =>
        {
            // A writer at the head holds alone; otherwise every reader before the first writer holds.
            var writes = QueueTurnRule.MarkerOf(q.Ordered[0]) == "W-";
            var granted = writes ? [q.Ordered[0]] : q.Ordered.TakeWhile(c => QueueTurnRule.MarkerOf(c) != "W-").ToList();
            var holders = await HoldersAsync(zk, root + "/" + q.Dir, granted, meta.GetValueOrDefault(q.Key), cancellationToken).ConfigureAwait(false);
            if (holders.Count == 0)
            {
                return null;
            }

            return writes
                ? new ReaderWriterLockInfo(q.Key, [], holders[0], q.Ordered.Count - 1, "zookeeper")
                : new ReaderWriterLockInfo(q.Key, holders, null, q.Ordered.Count - granted.Count, "zookeeper");
        })).ConfigureAwait(false);
        return [.. result.OfType<ReaderWriterLockInfo>()];
    }

    public async Task<IReadOnlyList<ElectionInfo>> GetElectionsAsync(int limit = 200, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (!connections.HasZooKeeper)
        {
            return [];
        }

        var (zk, root, queues) = await ReadQueuesAsync("elections", limit, cancellationToken).ConfigureAwait(false);
        var result = await Task.WhenAll(queues.Select(async q =>
            new ElectionInfo(q.Key, await LeaderElection.ReadLeaderAsync(zk, root + "/" + q.Dir, q.Ordered, cancellationToken).ConfigureAwait(false), q.Ordered.Count))).ConfigureAwait(false);
        return result;
    }

    /// <summary>The non-empty queues of one collection, ordered by key, each in sequence order; read concurrently (pipelined on the session).</summary>
    private async Task<(ZooKeeperClient Zk, string Root, IReadOnlyList<(string Dir, string Key, IReadOnlyList<string> Ordered)> Queues)> ReadQueuesAsync(string collection, int limit, CancellationToken ct)
    {
        var o = connections.Options;
        var zk = await connections.GetConnectedZooKeeperAsync(o.ConnectTimeout, ct).ConfigureAwait(false);
        var root = o.UnderRoot(collection);
        IReadOnlyList<string> dirs;
        try
        {
            dirs = (await zk.GetChildrenAsync(root, null, ct).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return (zk, root, []);
        }

        var queues = await Task.WhenAll(dirs.Order(StringComparer.Ordinal).Select(async dir =>
        {
            try
            {
                var children = (await zk.GetChildrenAsync(root + "/" + dir, null, ct).ConfigureAwait(false)).Children;
                IReadOnlyList<string> ordered = [.. children.Where(c => c.Length > OwnerIdLength + 10).OrderBy(ZooKeeperLockQueue.Sequence)];
                return (Dir: dir, Key: LockKey.FromNodeName(dir), Ordered: ordered);
            }
            catch (NoNodeException)
            {
                return (Dir: dir, Key: string.Empty, Ordered: (IReadOnlyList<string>)[]);
            }
        })).ConfigureAwait(false);
        return (zk, root, [.. queues.Where(q => q.Ordered.Count > 0).Take(limit)]);
    }

    private static async Task<ZooKeeperStat?> ExistsAsync(ZooKeeperClient zk, string path, CancellationToken ct)
    {
        try
        {
            return await zk.ExistsAsync(path, null, ct).ConfigureAwait(false);
        }
        catch (NoNodeException)
        {
            return null;
        }
    }

    /// <summary>The holders among <paramref name="nodes"/> that still exist, with their czxid as token and Redis metadata joined by owner id.</summary>
    private static async Task<IReadOnlyList<LockHolderInfo>> HoldersAsync(ZooKeeperClient zk, string dir, IReadOnlyList<string> nodes, Dictionary<string, LockHolderInfo>? meta, CancellationToken ct)
    {
        var stats = await Task.WhenAll(nodes.Select(n => ExistsAsync(zk, dir + "/" + n, ct))).ConfigureAwait(false);
        var holders = new List<LockHolderInfo>(nodes.Count);
        for (var i = 0; i < nodes.Count; i++)
        {
            if (stats[i] is not { } stat)
            {
                continue;
            }

            LockHolderInfo? m = null;
            meta?.TryGetValue(nodes[i][..OwnerIdLength], out m);
            holders.Add(new LockHolderInfo(stat.Czxid, m?.Holder, m?.AcquiredAt ?? DateTimeOffset.FromUnixTimeMilliseconds(stat.Ctime)));
        }

        return holders;
    }

    /// <summary>Per key, the holders hash of a semaphore or reader-writer lock (owner id → metadata); empty on Redis errors.</summary>
    private async Task<Dictionary<string, Dictionary<string, LockHolderInfo>>> ReadHoldersHashesAsync(IEnumerable<string> keys, LockShape shape, CancellationToken ct)
    {
        var result = new Dictionary<string, Dictionary<string, LockHolderInfo>>(StringComparer.Ordinal);
        var list = keys.ToList();
        if (!connections.HasRedis || list.Count == 0)
        {
            return result;
        }

        try
        {
            var redis = await connections.GetRedisAsync().WaitAsync(connections.Options.ConnectTimeout, ct).ConfigureAwait(false);
            var db = redis.GetDatabase();
            var hashes = await Task.WhenAll(list.Select(k => db.HashGetAllAsync(RedisPermitRecord.Keys(connections.Options.RedisPrefix, k, shape).Holders))).ConfigureAwait(false);
            for (var i = 0; i < list.Count; i++)
            {
                result[list[i]] = ParseHolders(hashes[i]).Holders;
            }
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex) || ex is TimeoutException)
        {
            // Metadata is optional: ZooKeeper still answers who holds what.
        }

        return result;
    }

    /// <summary>Redis-only mode: the live holders of every semaphore (or reader-writer lock) whose holders hash ends in <paramref name="holdersSuffix"/>.</summary>
    private async Task<IReadOnlyList<RedisPermits>> ReadRedisPermitsAsync(string holdersSuffix, int limit, CancellationToken ct)
    {
        var result = new List<RedisPermits>();
        if (!connections.HasRedis)
        {
            return result;
        }

        var prefix = connections.Options.RedisPrefix;
        var shape = holdersSuffix.StartsWith("rw", StringComparison.Ordinal) ? LockShape.Read : LockShape.Semaphore(1);
        var redis = await connections.GetRedisAsync().WaitAsync(connections.Options.ConnectTimeout, ct).ConfigureAwait(false);
        var names = await ScanAsync(redis, GlobEscape(prefix) + "{*}:" + holdersSuffix, limit, ct).ConfigureAwait(false);
        var db = redis.GetDatabase();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(); // leases run for tens of seconds: local time is close enough to Redis time here
        foreach (var key in names.Select(n => RedisLockRecord.KeyOf(n!, prefix, holdersSuffix)).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(limit))
        {
            var k = RedisPermitRecord.Keys(prefix, key, shape);
            var hash = db.HashGetAllAsync(k.Holders);
            var live = db.SortedSetRangeByScoreAsync(k.Own, now, double.PositiveInfinity);
            var writers = shape.Kind == LockKind.Read ? db.SortedSetRangeByScoreAsync(k.Block, now, double.PositiveInfinity) : Task.FromResult(Array.Empty<RedisValue>());
            var (holders, permits) = ParseHolders(await hash.ConfigureAwait(false));
            var alive = (await live.ConfigureAwait(false)).Concat(await writers.ConfigureAwait(false)).Select(v => (string)v!).ToHashSet(StringComparer.Ordinal);
            var writerIds = (await writers.ConfigureAwait(false)).Select(v => (string)v!).ToHashSet(StringComparer.Ordinal);
            var current = holders.Where(h => alive.Contains(h.Key)).ToDictionary(h => h.Key, h => h.Value, StringComparer.Ordinal);
            if (current.Count > 0)
            {
                result.Add(new RedisPermits(key, permits, current, writerIds));
            }
        }

        return result;
    }

    private static (Dictionary<string, LockHolderInfo> Holders, int? Permits) ParseHolders(HashEntry[] entries)
    {
        var holders = new Dictionary<string, LockHolderInfo>(StringComparer.Ordinal);
        int? permits = null;
        foreach (var e in entries)
        {
            var field = (string)e.Name!;
            var value = (string?)e.Value;
            if (field == "~permits")
            {
                permits = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : null;
            }
            else if (value is { Length: > OwnerIdLength })
            {
                var parsed = Parse(field, value[(OwnerIdLength + 1)..]);
                holders[field] = new LockHolderInfo(parsed.FencingToken, parsed.Holder, parsed.AcquiredAt);
            }
        }

        return (holders, permits);
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
            var keys = await ScanAsync(redis, GlobEscape(prefix) + "{*}:" + RedisLockRecord.RecordSuffix, limit * 4, ct).ConfigureAwait(false);

            // Pipelined GETs (one round trip's wait for all records, and no cross-slot MGET on a cluster).
            var db = redis.GetDatabase();
            var values = await Task.WhenAll(keys.Select(k => db.StringGetAsync(k))).ConfigureAwait(false);
            for (var i = 0; i < keys.Count; i++)
            {
                var value = (string?)values[i];
                if (value is { Length: > OwnerIdLength } && RedisLockRecord.KeyOf(keys[i]!, prefix, RedisLockRecord.RecordSuffix) is { } key)
                {
                    result[key] = Parse(key, value[(OwnerIdLength + 1)..]);
                }
            }
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex) || ex is TimeoutException)
        {
            // Metadata is optional: ZooKeeper still answers who holds what.
        }

        return result;
    }

    /// <summary>Keys matching <paramref name="pattern"/> on every connected primary (SCAN), at most <paramref name="max"/> per primary.</summary>
    private static async Task<List<RedisKey>> ScanAsync(IConnectionMultiplexer redis, string pattern, int max, CancellationToken ct)
    {
        var keys = new List<RedisKey>();
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsReplica || !server.IsConnected)
            {
                continue;
            }

            var found = 0;
            await foreach (var k in server.KeysAsync(pattern: pattern, pageSize: 250).WithCancellation(ct).ConfigureAwait(false))
            {
                keys.Add(k);
                if (++found >= max)
                {
                    break;
                }
            }
        }

        return keys;
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

    private sealed record RedisPermits(string Key, int? Permits, Dictionary<string, LockHolderInfo> Holders, HashSet<string> Writers);
}

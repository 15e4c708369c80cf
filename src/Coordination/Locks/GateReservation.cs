using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The record taken at the Redis gate before this caller owns the key. It is given back (compare-and-delete)
/// on every path that does not end in ownership; giving back twice is harmless.
/// </summary>
internal sealed class GateReservation(IConnectionMultiplexer redis, RedisKey record, string ownerId)
{
    private int _returned;

    public async Task GiveBackAsync()
    {
        if (Interlocked.Exchange(ref _returned, 1) != 0)
        {
            return;
        }

        try
        {
            await RedisLockRecord.CompareDeleteScript.EvaluateAsync(redis.GetDatabase(), new { record, owner = ownerId }).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
        {
            // The reservation expires with its lease.
        }
    }
}

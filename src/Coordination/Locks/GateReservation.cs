using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// The record taken at the Redis gate before this caller owns the key. It is given back (compare-and-delete)
/// on every path that does not end in ownership; giving back twice is harmless.
/// </summary>
/// <remarks>The lock's gate is a record (compare-and-delete); a semaphore's or reader-writer lock's is its member of a
/// counting set (<see cref="RedisPermitRecord.GiveBackScript"/>); <paramref name="giveBack"/> takes @record and @owner.</remarks>
internal sealed class GateReservation(IConnectionMultiplexer redis, RedisKey record, string ownerId, LuaScript? giveBack = null)
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
            await (giveBack ?? RedisLockRecord.CompareDeleteScript).EvaluateAsync(redis.GetDatabase(), new { record, owner = ownerId }).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLockRecord.IsRedisError(ex))
        {
            // The reservation expires with its lease.
        }
    }
}

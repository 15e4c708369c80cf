using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Coordination.Locks;

/// <summary>
/// Wakes local waiters when any process publishes a release of their key on <c>&lt;prefix&gt;released</c>.
/// One subscription per process, made on first use; waiters register a callback per key.
/// </summary>
/// <remarks>
/// A message is the key (Redis-only releases), or <c>&lt;key&gt;\n&lt;node name&gt;</c> when ZooKeeper decided: the
/// callback gets the released node's name, so a waiter can ignore releases of nodes it does not wait behind (no herd:
/// one release wakes the waiters watching that node, as the ZooKeeper watch does). Keys hold no control character.
/// </remarks>
internal sealed class ReleaseBell
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<object, Action<string?>>> _listeners = new(StringComparer.Ordinal);
    private readonly string _prefix;
    private Task? _subscribed;

    public ReleaseBell(string prefix) => _prefix = prefix;

    /// <summary>Subscribes once; failures are swallowed (waiters still have their ZooKeeper watch or lease timer).</summary>
    public Task EnsureSubscribedAsync(IConnectionMultiplexer redis)
    {
        var t = _subscribed;
        if (t is { IsCompletedSuccessfully: true })
        {
            return t;
        }

        lock (_listeners)
        {
            if (_subscribed is null || _subscribed.IsFaulted || _subscribed.IsCanceled)
            {
                _subscribed = SubscribeAsync(redis);
            }

            return _subscribed;
        }
    }

    private async Task SubscribeAsync(IConnectionMultiplexer redis)
    {
        // Right after connecting, the subscription connection can still be coming up while the interactive one is
        // ready (the multiplexer fails fast instead of queueing): retry briefly before calling Redis unusable.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(RedisLockRecord.Channel(_prefix), (_, message) => Ring((string?)message)).ConfigureAwait(false);
                return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && redis.IsConnected)
            {
                await Task.Delay(25).ConfigureAwait(false);
            }
        }
    }

    public void Ring(string? message)
    {
        if (message is null)
        {
            return;
        }

        var split = message.IndexOf('\n', StringComparison.Ordinal);
        var key = split < 0 ? message : message[..split];
        var node = split < 0 ? null : message[(split + 1)..];
        if (_listeners.TryGetValue(key, out var set))
        {
            foreach (var a in set.Values)
            {
                a(node);
            }
        }
    }

    /// <summary>Calls <paramref name="onRelease"/> on every release of <paramref name="key"/>.</summary>
    public IDisposable Listen(string key, Action onRelease) => Listen(key, _ => onRelease());

    /// <summary>Calls <paramref name="onRelease"/> with the released node's name (null: not named) on every release of <paramref name="key"/>.</summary>
    public IDisposable Listen(string key, Action<string?> onRelease)
    {
        var token = new object();
        var set = _listeners.GetOrAdd(key, _ => new ConcurrentDictionary<object, Action<string?>>());
        set[token] = onRelease;
        return new Registration(this, key, token);
    }

    private sealed class Registration(ReleaseBell bell, string key, object token) : IDisposable
    {
        public void Dispose()
        {
            if (bell._listeners.TryGetValue(key, out var set))
            {
                set.TryRemove(token, out _);
                if (set.IsEmpty)
                {
                    bell._listeners.TryRemove(new KeyValuePair<string, ConcurrentDictionary<object, Action<string?>>>(key, set));
                }
            }
        }
    }
}

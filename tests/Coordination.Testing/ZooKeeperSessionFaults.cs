using Coordination.ZooKeeper;

namespace Coordination.Testing;

/// <summary>Expires ZooKeeper sessions on purpose (the fault the other tools cannot cause).</summary>
public static class ZooKeeperSessionFaults
{
    /// <summary>
    /// Expires <paramref name="client"/>'s session on purpose: attach a second connection to the same session id and
    /// password and close it. Repeats until the client reports Expired (a closeSession can race a reconnect).
    /// </summary>
    /// <param name="client">The client whose session to expire.</param>
    /// <param name="connectionString">Where to attach the twin (the same servers, no chroot needed).</param>
    /// <param name="done">When the caller considers the expiry complete; default: the client reports Expired or Closed.</param>
    public static async Task ExpireSessionAsync(ZooKeeperClient client, string connectionString, Func<bool>? done = null)
    {
        done ??= () => client.State is ZooKeeperState.Expired or ZooKeeperState.Closed;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var sessionId = client.SessionId;
        var password = client.SessionPassword.ToArray();
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Could not expire session 0x{sessionId:x}.");
            }

            try
            {
                var twin = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
                {
                    ConnectionString = connectionString,
                    SessionId = sessionId,
                    SessionPassword = password,
                    SessionTimeout = client.NegotiatedSessionTimeout,
                    CreateChroot = false,
                    ConnectTimeout = TimeSpan.FromSeconds(2),
                });
                await twin.DisposeAsync();
            }
            catch (SessionExpiredException)
            {
            }

            var wait = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (!done() && DateTime.UtcNow < wait)
            {
                await Task.Delay(20);
            }
        }
    }
}

using Coordination.ZooKeeper;

namespace Coordination.Testing;

/// <summary>Expires ZooKeeper sessions on purpose (the fault the other tools cannot cause).</summary>
public static class ZooKeeperSessionFaults
{
    /// <summary>
    /// Expires <paramref name="client"/>'s session on purpose: attach a second connection to the same session id and
    /// password and close it. Repeats until the client reports Expired (a closeSession can race a reconnect).
    /// </summary>
    public static async Task ExpireSessionAsync(ZooKeeperClient client, string connectionString)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var sessionId = client.SessionId;
        var password = client.SessionPassword.ToArray();
        while (client.State is not (ZooKeeperState.Expired or ZooKeeperState.Closed))
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
            while (client.State is not (ZooKeeperState.Expired or ZooKeeperState.Closed) && DateTime.UtcNow < wait)
            {
                await Task.Delay(20);
            }
        }
    }
}

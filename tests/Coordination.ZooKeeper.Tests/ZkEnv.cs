using Coordination.ZooKeeper;

namespace Coordination.ZooKeeper.Tests;

/// <summary>Endpoints of the test servers (eng/servers.sh) and per-test chroots.</summary>
internal static class ZkEnv
{
    private static readonly Lazy<Dictionary<string, string>> File = new(Load);

    public static string Standalone => Get("COORD_ZK");

    public static string Ensemble => Get("COORD_ZK_ENSEMBLE");

    public static string Get(string name)
    {
        var v = Environment.GetEnvironmentVariable(name);
        if (!string.IsNullOrEmpty(v))
        {
            return v;
        }

        return File.Value.TryGetValue(name, out v) ? v : throw new InvalidOperationException($"{name} is not set and .servers/endpoints.env was not found; run eng/servers.sh start.");
    }

    private static Dictionary<string, string> Load()
    {
        var result = new Dictionary<string, string>();
        var dir = Environment.GetEnvironmentVariable("COORD_SERVERS_DIR");
        string? file = dir is not null ? Path.Combine(dir, "endpoints.env") : null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); file is null && d is not null; d = d.Parent)
        {
            var f = Path.Combine(d.FullName, ".servers", "endpoints.env");
            if (System.IO.File.Exists(f))
            {
                file = f;
            }
        }

        if (file is null || !System.IO.File.Exists(file))
        {
            return result;
        }

        foreach (var line in System.IO.File.ReadAllLines(file))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && !line.StartsWith('#'))
            {
                result[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('"');
            }
        }

        return result;
    }

    public static string NewChroot() => "/t-" + Guid.NewGuid().ToString("N")[..12];

    public static Task<ZooKeeperClient> ConnectAsync(string? chroot = null, bool ensemble = false, TimeSpan? sessionTimeout = null)
    {
        var cs = (ensemble ? Ensemble : Standalone) + (chroot ?? string.Empty);
        return ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectionString = cs,
            SessionTimeout = sessionTimeout ?? TimeSpan.FromSeconds(4),
            ConnectTimeout = TimeSpan.FromSeconds(2),
            OperationTimeout = TimeSpan.FromSeconds(10),
        });
    }

    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Expires <paramref name="client"/>'s session on purpose: attach a second connection to it and close it.</summary>
    public static async Task ExpireAsync(ZooKeeperClient client, string connectionString)
    {
        // The twin's closeSession can be lost when the server drops one of the two connections of the session
        // first; repeat until the session is really gone.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (client.State != ZooKeeperState.Expired)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Could not expire session 0x{client.SessionId:x}.");
            }

            try
            {
                var twin = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
                {
                    ConnectionString = connectionString,
                    SessionId = client.SessionId,
                    SessionPassword = client.SessionPassword.ToArray(),
                    SessionTimeout = client.NegotiatedSessionTimeout,
                    CreateChroot = false,
                });
                await twin.DisposeAsync();
            }
            catch (SessionExpiredException)
            {
                // already gone on the server; the client learns it when it reconnects
            }

            var wait = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (client.State != ZooKeeperState.Expired && DateTime.UtcNow < wait)
            {
                await Task.Delay(20);
            }
        }
    }
}

using Coordination.Testing;

namespace Coordination.ZooKeeper.Tests;

/// <summary>
/// Stops and restarts members of the test ensemble through <see cref="ServerFaults"/> (eng/servers.sh). Member n here
/// is 0-based, the n-th entry of the ensemble connection string; eng/servers.sh numbers them from 1.
/// </summary>
internal static class EnsembleControl
{
    private static readonly ServerFaults Faults = new(TestServers.Current);

    public static IReadOnlyList<string> Members => ZkEnv.Ensemble.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The member index of <paramref name="server"/> (<c>host:port</c>, e.g. <see cref="ZooKeeperClient.ConnectedServer"/>).</summary>
    public static int IndexOf(string server)
    {
        var members = Members;
        for (var i = 0; i < members.Count; i++)
        {
            if (string.Equals(members[i], server, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new ArgumentException($"'{server}' is not a member of the test ensemble ({ZkEnv.Ensemble}).", nameof(server));
    }

    /// <summary>Stops member <paramref name="n"/> and waits until it is gone.</summary>
    public static Task StopMemberAsync(int n) => Faults.StopEnsembleMemberAsync(n + 1);

    /// <summary>Starts member <paramref name="n"/> again and waits until it serves as leader or follower.</summary>
    public static Task StartMemberAsync(int n) => Faults.StartEnsembleMemberAsync(n + 1);

    /// <summary>The member's role ("leader", "follower", "standalone"), or null when it does not serve.</summary>
    public static async Task<string?> ModeAsync(int n)
    {
        var mode = await Faults.GetEnsembleMemberModeAsync(n + 1);
        return mode switch
        {
            ZooKeeperServerMode.Leader => "leader",
            ZooKeeperServerMode.Follower => "follower",
            ZooKeeperServerMode.Standalone => "standalone",
            _ => null,
        };
    }

    public static (string Host, int Port) Split(string server)
    {
        var colon = server.LastIndexOf(':');
        return (server[..colon], int.Parse(server[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}

using System.Globalization;

namespace Coordination.ZooKeeper;

/// <summary>
/// A parsed ZooKeeper connection string: <c>host:port[,host:port...][/chroot]</c>. The port defaults to 2181.
/// </summary>
public sealed class ZooKeeperConnectionString
{
    private ZooKeeperConnectionString(IReadOnlyList<(string Host, int Port)> hosts, string? chroot, string original)
    {
        Hosts = hosts;
        Chroot = chroot;
        Original = original;
    }

    /// <summary>The servers, in the order written.</summary>
    public IReadOnlyList<(string Host, int Port)> Hosts { get; }

    /// <summary>The chroot every path is relative to, or <see langword="null"/> for none.</summary>
    public string? Chroot { get; }

    /// <summary>The string that was parsed.</summary>
    public string Original { get; }

    /// <summary>Parses <paramref name="connectionString"/>.</summary>
    /// <exception cref="ArgumentException">The string is empty, a host or port is malformed, or the chroot is not a valid path.</exception>
    public static ZooKeeperConnectionString Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ArgumentException("The ZooKeeper connection string is empty; expected 'host:port[,host:port...][/chroot]'.", nameof(connectionString));
        }

        var s = connectionString.Trim();
        string? chroot = null;
        var slash = s.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            chroot = s[slash..];
            s = s[..slash];
            if (chroot == "/")
            {
                chroot = null;
            }
            else
            {
                try
                {
                    ZooKeeperPath.Validate(chroot, nameof(connectionString));
                }
                catch (ArgumentException ex)
                {
                    throw new ArgumentException($"The chroot '{chroot}' in ZooKeeper connection string '{connectionString}' is invalid: {ex.Message}", nameof(connectionString), ex);
                }
            }
        }

        var hosts = new List<(string, int)>();
        foreach (var part in s.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
            {
                throw new ArgumentException($"The ZooKeeper connection string '{connectionString}' has an empty host entry.", nameof(connectionString));
            }

            string host;
            var port = 2181;
            var colon = part.LastIndexOf(':');
            if (part.StartsWith('['))
            {
                var close = part.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new ArgumentException($"The host '{part}' in ZooKeeper connection string '{connectionString}' has an unclosed '['.", nameof(connectionString));
                }

                host = part[1..close];
                colon = part.IndexOf(':', close);
            }
            else
            {
                host = colon >= 0 ? part[..colon] : part;
            }

            if (colon >= 0)
            {
                var portText = part[(colon + 1)..];
                if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                {
                    throw new ArgumentException($"The port '{portText}' in ZooKeeper connection string '{connectionString}' is not a number between 1 and 65535.", nameof(connectionString));
                }
            }

            if (host.Length == 0 || host.Any(char.IsWhiteSpace))
            {
                throw new ArgumentException($"The host '{part}' in ZooKeeper connection string '{connectionString}' is empty or contains whitespace.", nameof(connectionString));
            }

            hosts.Add((host, port));
        }

        return new ZooKeeperConnectionString(hosts, chroot, connectionString);
    }

    /// <inheritdoc />
    public override string ToString() => Original;
}

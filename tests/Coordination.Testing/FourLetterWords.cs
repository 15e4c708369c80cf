using System.Net.Sockets;
using System.Text;

namespace Coordination.Testing;

/// <summary>ZooKeeper's four-letter admin commands (<c>ruok</c>, <c>srvr</c>, <c>mntr</c>...) over a plain TCP connection.</summary>
public static class FourLetterWords
{
    /// <summary>How long one command may take, connection included, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Sends <paramref name="command"/> and returns the whole answer (the server closes the connection after it).</summary>
    /// <exception cref="SocketException">Nothing listens on the port.</exception>
    /// <exception cref="TimeoutException">No complete answer within <see cref="DefaultTimeout"/>.</exception>
    public static async Task<string> SendAsync(string host, int port, string command, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        if (command is null || command.Length != 4)
        {
            throw new ArgumentException($"A four-letter word has four letters, got '{command}'.", nameof(command));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DefaultTimeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(command), timeout.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"ZooKeeper at {host}:{port} did not answer '{command}' within {DefaultTimeout.TotalSeconds:0.#} s.");
        }
    }

    /// <summary>Reads the mode from a <c>srvr</c> (or <c>stat</c>) answer.</summary>
    public static ZooKeeperServerMode ParseMode(string srvrText)
    {
        ArgumentNullException.ThrowIfNull(srvrText);
        if (srvrText.Contains("not currently serving requests", StringComparison.Ordinal))
        {
            return ZooKeeperServerMode.NotServing;
        }

        foreach (var line in srvrText.Split('\n'))
        {
            if (line.StartsWith("Mode:", StringComparison.Ordinal))
            {
                return line["Mode:".Length..].Trim() switch
                {
                    "leader" => ZooKeeperServerMode.Leader,
                    "follower" => ZooKeeperServerMode.Follower,
                    "observer" => ZooKeeperServerMode.Observer,
                    "standalone" => ZooKeeperServerMode.Standalone,
                    "read-only" => ZooKeeperServerMode.ReadOnly,
                    _ => ZooKeeperServerMode.Unknown,
                };
            }
        }

        return ZooKeeperServerMode.Unknown;
    }

    /// <summary>Asks a server for its mode; <see cref="ZooKeeperServerMode.Unreachable"/> when it cannot be asked.</summary>
    public static async Task<ZooKeeperServerMode> GetModeAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        try
        {
            return ParseMode(await SendAsync(host, port, "srvr", cancellationToken));
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return ZooKeeperServerMode.Unreachable;
        }
    }

    /// <summary>Sends <c>mntr</c> and returns its <c>key\tvalue</c> lines as a dictionary (e.g. <c>zk_server_state</c>).</summary>
    public static async Task<IReadOnlyDictionary<string, string>> MntrAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        var text = await SendAsync(host, port, "mntr", cancellationToken);
        return ParseMntr(text);
    }

    /// <summary>Parses a <c>mntr</c> answer.</summary>
    public static IReadOnlyDictionary<string, string> ParseMntr(string mntrText)
    {
        ArgumentNullException.ThrowIfNull(mntrText);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in mntrText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0)
            {
                values[line[..tab]] = line[(tab + 1)..].TrimEnd('\r');
            }
        }

        return values;
    }
}

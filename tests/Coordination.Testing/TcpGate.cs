using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Coordination.Testing;

/// <summary>
/// A loopback TCP forwarder in front of one server, to take the server "away" from a client without touching the
/// shared server: closed, it refuses new connections (accepts and resets them at once); it can cut the forwarded
/// connections, make them silent (a hung server or a lost network), or drop only the server's replies (requests
/// still arrive and are applied, answers are lost: the "lost reply" case).
/// </summary>
public sealed class TcpGate : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _acceptLoop;
    private volatile bool _open;
    private int _generation;
    private volatile int _frozenUpTo = -1;
    private volatile int _mutedUpTo = -1;

    /// <summary>
    /// Starts listening on 127.0.0.1 (or <paramref name="listenAddress"/>, e.g. 127.0.0.2 to reach a server under an address
    /// its certificate does not name); <paramref name="open"/> says whether connections are forwarded from the start.
    /// </summary>
    public TcpGate(string target, bool open = false, IPAddress? listenAddress = null)
    {
        _listener = new TcpListener(listenAddress ?? IPAddress.Loopback, 0);
        ArgumentException.ThrowIfNullOrEmpty(target);
        var colon = target.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(target.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _targetPort))
        {
            throw new ArgumentException($"Target '{target}' is not host:port.", nameof(target));
        }

        _targetHost = target[..colon];
        _open = open;
        _listener.Start();
        Endpoint = $"{(listenAddress ?? IPAddress.Loopback)}:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The <c>host:port</c> clients connect to.</summary>
    public string Endpoint { get; }

    /// <summary>Forwards new connections.</summary>
    public void Open() => _open = true;

    /// <summary>Refuses new connections and cuts the forwarded ones (with a reset, as a crashed server would).</summary>
    public void Close()
    {
        _open = false;
        DropConnections();
    }

    /// <summary>
    /// Makes the connections forwarded so far silent: they stay open but their bytes are dropped both ways (a hung
    /// server or a lost network); connections made later are forwarded normally.
    /// </summary>
    public void FreezeExisting() => _frozenUpTo = Volatile.Read(ref _generation);

    /// <summary>
    /// Drops what the server sends on the connections forwarded so far, while the client's bytes still reach it: a
    /// request sent now is applied by the server, but its reply is lost.
    /// </summary>
    public void MuteRepliesOfExisting() => _mutedUpTo = Volatile.Read(ref _generation);

    /// <summary>Cuts every forwarded connection (both sides see the socket reset); open or closed stays as it is.</summary>
    public void DropConnections()
    {
        lock (_sockets)
        {
            foreach (var s in _sockets)
            {
                try
                {
                    s.LingerState = new LingerOption(true, 0);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
                {
                }

                s.Dispose();
            }

            _sockets.Clear();
        }
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                if (!_open)
                {
                    client.LingerState = new LingerOption(true, 0);
                    client.Dispose();
                    continue;
                }

                var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                client.NoDelay = true;
                try
                {
                    await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
                }
                catch (SocketException)
                {
                    client.Dispose();
                    server.Dispose();
                    continue;
                }

                lock (_sockets)
                {
                    _sockets.Add(client);
                    _sockets.Add(server);
                }

                var generation = Interlocked.Increment(ref _generation);
                _ = PumpAsync(client, server, generation, reply: false);
                _ = PumpAsync(server, client, generation, reply: true);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // stopped (InvalidOperationException: the listener was stopped between two accepts)
        }
    }

    private async Task PumpAsync(Socket from, Socket to, int generation, bool reply)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
            {
                if (generation > _frozenUpTo && !(reply && generation <= _mutedUpTo))
                {
                    await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    /// <summary>Stops listening and cuts every forwarded connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        DropConnections();
        _stop.Dispose();
    }
}

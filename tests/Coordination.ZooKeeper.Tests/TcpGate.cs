using System.Net;
using System.Net.Sockets;

namespace Coordination.ZooKeeper.Tests;

/// <summary>
/// A TCP forwarder to one server that can be closed (new connections are accepted and dropped at once) and
/// opened. Lets a test decide exactly when a client may reach its next server.
/// </summary>
internal sealed class TcpGate : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _acceptLoop;
    private volatile bool _open;
    private int _generation;
    private volatile int _frozenUpTo = -1;

    public TcpGate(string target)
    {
        (_targetHost, _targetPort) = EnsembleControl.Split(target);
        _listener.Start();
        Endpoint = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The <c>host:port</c> clients connect to.</summary>
    public string Endpoint { get; }

    public void Open() => _open = true;

    /// <summary>
    /// Makes the connections forwarded so far silent: they stay open but their bytes are dropped both ways (a hung
    /// server or a lost network); connections made later are forwarded normally.
    /// </summary>
    public void FreezeExisting() => _frozenUpTo = Volatile.Read(ref _generation);

    /// <summary>Cuts every forwarded connection (both sides see the socket close); the gate stays as it is.</summary>
    public void DropConnections()
    {
        lock (_sockets)
        {
            _sockets.ForEach(s => s.Dispose());
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
                _ = PumpAsync(client, server, generation);
                _ = PumpAsync(server, client, generation);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
            // stopped (InvalidOperationException: the listener was stopped between two accepts)
        }
    }

    private async Task PumpAsync(Socket from, Socket to, int generation)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
            {
                if (generation > _frozenUpTo)
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

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        lock (_sockets)
        {
            _sockets.ForEach(s => s.Dispose());
        }

        _stop.Dispose();
    }
}

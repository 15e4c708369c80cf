using StackExchange.Redis;

namespace Coordination.Hangfire.Tests.CrossProcess;

/// <summary>
/// The Redis the cross-process tests share their Hangfire storage on: the test servers' Redis (eng/servers.sh), or
/// the one named by COORDINATION_TEST_REDIS. Every run uses its own key prefix.
/// </summary>
public sealed class RedisServer : IDisposable
{
    public RedisServer()
    {
        var configured = Environment.GetEnvironmentVariable("COORDINATION_TEST_REDIS");
        Endpoint = string.IsNullOrWhiteSpace(configured) ? Coordination.Testing.TestServers.Current.Redis : configured;
        Connection = ConnectionMultiplexer.Connect(Endpoint);
    }

    public string Endpoint { get; }

    public ConnectionMultiplexer Connection { get; }

    public void Dispose() => Connection.Dispose();
}

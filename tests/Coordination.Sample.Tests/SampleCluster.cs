using Coordination.Testing;

namespace Coordination.Sample.Tests;

/// <summary>
/// Two sample instances on the shared test servers, in a name space of their own (Redis prefix, ZooKeeper root,
/// configuration node, Hangfire prefix), so they see each other and nothing else.
/// </summary>
public sealed class SampleCluster : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>The run's unique name space.</summary>
    public TestNamespace Namespace { get; } = TestNamespace.Create();

    /// <summary>The first instance.</summary>
    public SampleProcess A { get; private set; } = null!;

    /// <summary>The second instance.</summary>
    public SampleProcess B { get; private set; } = null!;

    /// <summary>Both instances.</summary>
    public IReadOnlyList<SampleProcess> Instances => [A, B];

    /// <summary>The ZooKeeper node the instances keep their configuration under.</summary>
    public string ConfigPath => $"/sample-tests/{Namespace.Id}/config/webapp";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var servers = TestServers.Current;
        var environment = new Dictionary<string, string>
        {
            ["Coordination__Redis"] = servers.Redis,
            ["Coordination__ZooKeeper"] = servers.ZooKeeper,
            ["Coordination__RedisPrefix"] = Namespace.KeyPrefix,
            ["Coordination__ZooKeeperRoot"] = $"/sample-tests/{Namespace.Id}/coordination",
            ["Sample__ConfigPath"] = ConfigPath,
            ["Sample__HangfirePrefix"] = Namespace.KeyPrefix + "hangfire:",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        var starting = new[] { SampleProcess.StartAsync(environment, StartTimeout), SampleProcess.StartAsync(environment, StartTimeout) };
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var t in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await t.Result.DisposeAsync();
            }

            throw;
        }

        A = starting[0].Result;
        B = starting[1].Result;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (A is not null)
        {
            await A.DisposeAsync();
        }

        if (B is not null)
        {
            await B.DisposeAsync();
        }
    }
}

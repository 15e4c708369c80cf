using Coordination.Elections;
using Coordination.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.Tests.Elections;

/// <summary>
/// One "process" standing in elections: its own container, session and hosted services (started here, stopped in
/// reverse order on dispose as a host would).
/// </summary>
internal sealed class ElectionNode : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<IHostedService> _hosted;
    private bool _stopped;

    public ElectionNode(string prefix, string root, string instanceId, Action<IHybridCoordinationBuilder> elections, Action<HybridCoordinationOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs));
        services.AddHealthChecks();
        var builder = services.AddHybridCoordination(o =>
        {
            o.Redis = TestEnv.Redis;
            o.ZooKeeper = TestEnv.ZooKeeper;
            o.RedisPrefix = prefix;
            o.ZooKeeperRoot = root;
            o.SessionTimeout = TimeSpan.FromSeconds(4);
            o.ConnectTimeout = TimeSpan.FromSeconds(5);
            configure?.Invoke(o);
        });
        InstanceId = instanceId;
        services.AddSingleton(this);
        elections(builder);
        _services = services.BuildServiceProvider();
        _hosted = [.. _services.GetServices<IHostedService>().Where(h => h.GetType().Namespace != "Microsoft.Extensions.Diagnostics.HealthChecks")];
    }

    public string InstanceId { get; }

    public CapturingLoggerProvider Logs { get; } = new();

    public IServiceProvider Services => _services;

    public CoordinationConnections Connections => _services.GetRequiredService<CoordinationConnections>();

    public ILeaderElection Election(string name) => _services.GetRequiredKeyedService<ILeaderElection>(name);

    public async Task<ElectionNode> StartAsync()
    {
        foreach (var h in _hosted)
        {
            await h.StartAsync(CancellationToken.None);
        }

        return this;
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        for (var i = _hosted.Count - 1; i >= 0; i--)
        {
            await _hosted[i].StopAsync(CancellationToken.None);
        }
    }

    public async Task<HealthReport> HealthAsync() => await _services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _services.DisposeAsync();
    }
}

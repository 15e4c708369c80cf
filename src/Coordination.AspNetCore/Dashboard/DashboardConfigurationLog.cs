using Coordination.Configuration;

namespace Coordination.AspNetCore.Dashboard;

/// <summary>The last configuration changes of every ZooKeeper configuration source of the app, newest first.</summary>
internal sealed class DashboardConfigurationLog : IDisposable
{
    private const int Capacity = 20;
    private readonly LinkedList<DashboardConfigChange> _changes = new();
    private readonly List<IDisposable> _subscriptions = [];
    private readonly TimeProvider _time;

    public DashboardConfigurationLog(TimeProvider time) => _time = time;

    public void Subscribe(IEnumerable<ZooKeeperConfigurationProvider> providers)
    {
        foreach (var p in providers)
        {
            _subscriptions.Add(p.OnConfigurationChanged(string.Empty, change => Add(new DashboardConfigChange(_time.GetUtcNow(), change.Root, change.ChangedKeys))));
        }
    }

    public IReadOnlyList<DashboardConfigChange> Recent(string path)
    {
        lock (_changes)
        {
            return [.. _changes.Where(c => c.Path == path)];
        }
    }

    private void Add(DashboardConfigChange change)
    {
        lock (_changes)
        {
            _changes.AddFirst(change);
            while (_changes.Count > Capacity)
            {
                _changes.RemoveLast();
            }
        }
    }

    public void Dispose()
    {
        foreach (var s in _subscriptions)
        {
            s.Dispose();
        }
    }
}

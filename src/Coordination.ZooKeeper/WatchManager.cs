namespace Coordination.ZooKeeper;

/// <summary>
/// Client-side watch registry (the role of ZKWatchManager). One-shot watches are registered when their
/// request succeeds and removed when they fire; persistent ones stay until removed. Paths are relative to
/// the chroot. All access is under one lock; callbacks run later on the event thread.
/// </summary>
internal sealed class WatchManager
{
    private readonly object _gate = new();
    private readonly Dictionary<string, HashSet<ZooKeeperWatcher>> _data = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ZooKeeperWatcher>> _exist = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ZooKeeperWatcher>> _child = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ZooKeeperWatcher>> _persistent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ZooKeeperWatcher>> _recursive = new(StringComparer.Ordinal);

    public void AddData(string path, ZooKeeperWatcher w) => Add(_data, path, w);

    public void AddExist(string path, ZooKeeperWatcher w) => Add(_exist, path, w);

    public void AddChild(string path, ZooKeeperWatcher w) => Add(_child, path, w);

    public void AddPersistent(string path, ZooKeeperWatcher w, AddWatchMode mode) => Add(mode == AddWatchMode.Persistent ? _persistent : _recursive, path, w);

    private void Add(Dictionary<string, HashSet<ZooKeeperWatcher>> map, string path, ZooKeeperWatcher w)
    {
        lock (_gate)
        {
            if (!map.TryGetValue(path, out var set))
            {
                map[path] = set = [];
            }

            set.Add(w);
        }
    }

    /// <summary>The watchers an event reaches; one-shot ones are removed.</summary>
    public List<ZooKeeperWatcher> Materialize(WatchedEvent e)
    {
        var result = new List<ZooKeeperWatcher>();
        var path = e.Path ?? "/";
        lock (_gate)
        {
            switch (e.Type)
            {
                case WatchEventType.NodeCreated:
                case WatchEventType.NodeDataChanged:
                    Take(_data, path, result);
                    Take(_exist, path, result);
                    break;
                case WatchEventType.NodeDeleted:
                    Take(_data, path, result);
                    Take(_exist, path, result);
                    Take(_child, path, result);
                    break;
                case WatchEventType.NodeChildrenChanged:
                    Take(_child, path, result);
                    break;
            }

            if (_persistent.TryGetValue(path, out var p))
            {
                result.AddRange(p);
            }

            if (e.Type != WatchEventType.NodeChildrenChanged && _recursive.Count > 0)
            {
                for (var cur = path; ; cur = ZooKeeperPath.GetParent(cur))
                {
                    if (_recursive.TryGetValue(cur, out var r))
                    {
                        result.AddRange(r);
                    }

                    if (cur == "/")
                    {
                        break;
                    }
                }
            }
        }

        return result.Distinct().ToList();
    }

    private static void Take(Dictionary<string, HashSet<ZooKeeperWatcher>> map, string path, List<ZooKeeperWatcher> into)
    {
        if (map.Remove(path, out var set))
        {
            into.AddRange(set);
        }
    }

    /// <summary>Every watcher, for the terminal Expired/Closed event; clears the registry.</summary>
    public List<ZooKeeperWatcher> DrainAll()
    {
        lock (_gate)
        {
            var all = _data.Values.Concat(_exist.Values).Concat(_child.Values).Concat(_persistent.Values).Concat(_recursive.Values)
                .SelectMany(s => s).Distinct().ToList();
            _data.Clear();
            _exist.Clear();
            _child.Clear();
            _persistent.Clear();
            _recursive.Clear();
            return all;
        }
    }

    /// <summary>Removes watchers locally. Returns true when watches of that type remain on the path for other watchers.</summary>
    public bool Remove(string path, ZooKeeperWatcher? watcher, WatcherType type, out bool removedAny)
    {
        removedAny = false;
        var remaining = false;
        lock (_gate)
        {
            foreach (var map in MapsFor(type))
            {
                if (!map.TryGetValue(path, out var set))
                {
                    continue;
                }

                if (watcher is null)
                {
                    removedAny |= set.Count > 0;
                    map.Remove(path);
                }
                else
                {
                    removedAny |= set.Remove(watcher);
                    if (set.Count == 0)
                    {
                        map.Remove(path);
                    }
                    else
                    {
                        remaining = true;
                    }
                }
            }
        }

        return remaining;
    }

    public bool Has(string path, WatcherType type)
    {
        lock (_gate)
        {
            return MapsFor(type).Any(m => m.ContainsKey(path));
        }
    }

    private IEnumerable<Dictionary<string, HashSet<ZooKeeperWatcher>>> MapsFor(WatcherType type) => type switch
    {
        WatcherType.Children => [_child],
        WatcherType.Data => [_data, _exist],
        WatcherType.Persistent => [_persistent],
        WatcherType.PersistentRecursive => [_recursive],
        _ => [_data, _exist, _child, _persistent, _recursive],
    };

    /// <summary>The paths to re-register after a reconnect (SetWatches2).</summary>
    public (List<string> Data, List<string> Exist, List<string> Child, List<string> Persistent, List<string> Recursive) Snapshot()
    {
        lock (_gate)
        {
            return ([.. _data.Keys], [.. _exist.Keys], [.. _child.Keys], [.. _persistent.Keys], [.. _recursive.Keys]);
        }
    }
}

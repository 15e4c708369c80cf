namespace Coordination.ZooKeeper;

/// <summary>Receives watch notifications. Called on the client's single event thread, in order; keep it short.</summary>
public delegate void ZooKeeperWatcher(WatchedEvent watchedEvent);

namespace Coordination.ZooKeeper;

/// <summary>A watch notification.</summary>
/// <param name="Type">What happened.</param>
/// <param name="State">The session state when it happened.</param>
/// <param name="Path">The node it happened to (relative to the chroot), or null for state events.</param>
public sealed record WatchedEvent(WatchEventType Type, WatchedEventState State, string? Path);

namespace Coordination.ZooKeeper;

/// <summary>State of a <see cref="ZooKeeperClient"/>'s session and connection.</summary>
public enum ZooKeeperState
{
    /// <summary>Establishing the first connection.</summary>
    Connecting,
    /// <summary>Connected with a live session.</summary>
    Connected,
    /// <summary>Disconnected; the session may still be alive and the client is reconnecting.</summary>
    Suspended,
    /// <summary>The server expired the session: ephemeral nodes are gone; this client cannot be used again.</summary>
    Expired,
    /// <summary>Authentication failed; this client cannot be used again.</summary>
    AuthFailed,
    /// <summary>The client was disposed.</summary>
    Closed,
}

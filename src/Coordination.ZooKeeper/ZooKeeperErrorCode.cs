namespace Coordination.ZooKeeper;

/// <summary>Error codes of KeeperException.Code.</summary>
public enum ZooKeeperErrorCode
{
    /// <summary>Success.</summary>
    Ok = 0,
    /// <summary>A system error.</summary>
    SystemError = -1,
    /// <summary>A runtime inconsistency (later operations of a failed multi).</summary>
    RuntimeInconsistency = -2,
    /// <summary>A data inconsistency.</summary>
    DataInconsistency = -3,
    /// <summary>The connection to the server was lost.</summary>
    ConnectionLoss = -4,
    /// <summary>Marshalling error.</summary>
    MarshallingError = -5,
    /// <summary>Operation not implemented by the server.</summary>
    Unimplemented = -6,
    /// <summary>The operation timed out.</summary>
    OperationTimeout = -7,
    /// <summary>Invalid arguments.</summary>
    BadArguments = -8,
    /// <summary>Unknown session.</summary>
    UnknownSession = -12,
    /// <summary>No quorum for the new config.</summary>
    NewConfigNoQuorum = -13,
    /// <summary>A reconfiguration is in progress.</summary>
    ReconfigInProgress = -14,
    /// <summary>API error.</summary>
    ApiError = -100,
    /// <summary>The node does not exist.</summary>
    NoNode = -101,
    /// <summary>Not authorised.</summary>
    NoAuth = -102,
    /// <summary>The version did not match.</summary>
    BadVersion = -103,
    /// <summary>Ephemeral nodes cannot have children.</summary>
    NoChildrenForEphemerals = -108,
    /// <summary>The node already exists.</summary>
    NodeExists = -110,
    /// <summary>The node has children.</summary>
    NotEmpty = -111,
    /// <summary>The session expired.</summary>
    SessionExpired = -112,
    /// <summary>Invalid callback.</summary>
    InvalidCallback = -113,
    /// <summary>Invalid ACL.</summary>
    InvalidAcl = -114,
    /// <summary>Authentication failed.</summary>
    AuthFailed = -115,
    /// <summary>The session moved to another server.</summary>
    SessionMoved = -118,
    /// <summary>State-changing request sent to a read-only server.</summary>
    NotReadOnly = -119,
    /// <summary>Ephemeral node on a local session.</summary>
    EphemeralOnLocalSession = -120,
    /// <summary>No such watcher.</summary>
    NoWatcher = -121,
    /// <summary>The request timed out.</summary>
    RequestTimeout = -122,
    /// <summary>Reconfiguration disabled.</summary>
    ReconfigDisabled = -123,
    /// <summary>Session closed because SASL auth is required.</summary>
    SessionClosedRequireSaslAuth = -124,
    /// <summary>Quota exceeded.</summary>
    QuotaExceeded = -125,
    /// <summary>The server throttled the request.</summary>
    Throttled = -127,
}

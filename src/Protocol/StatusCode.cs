namespace KvnDb.Protocol;

/// <summary>Status of a response (bytes 6-7 of the header). Error statuses carry a UTF-8 message body.</summary>
public enum StatusCode : ushort
{
    Ok = 0,
    /// <summary>The key does not exist (get, exists, delete). Not an error.</summary>
    NotFound = 1,
    /// <summary>A conditional write's condition did not hold (nothing changed). An answer with an outcome body, not an error.</summary>
    ConditionFailed = 2,

    /// <summary>No node can take the request (none connected, or all died before answering).</summary>
    Unavailable = 10,
    /// <summary>Wrong password. The connection is closed after the reply.</summary>
    AuthFailed = 11,
    /// <summary>The peer speaks another protocol version. The connection is closed after the reply.</summary>
    VersionMismatch = 12,
    /// <summary>A frame other than hello before the handshake, or a node-only operation from a client.</summary>
    NotAuthorized = 13,
    /// <summary>
    /// This router is a standby of a router group (not its Raft leader): the body is the leader's <c>host:port</c> in
    /// UTF-8 (empty while no leader is known). The connection is closed after the reply; connect to the leader.
    /// </summary>
    NotLeader = 14,

    /// <summary>A malformed frame or body. Connection-level violations close the connection.</summary>
    ProtocolError = 20,
    /// <summary>The header claims a body above the frame limit. The connection is closed.</summary>
    FrameTooLarge = 21,
    /// <summary>A key above the key size limit. The request fails, the connection lives.</summary>
    KeyTooLarge = 22,
    /// <summary>The opcode is not known. The connection is closed.</summary>
    UnknownOpcode = 23,
    /// <summary>
    /// A write whose key + value is above the cluster's record limit (the smallest any node can store).
    /// Refused before it is sequenced, so no node stores it. The request fails, the connection lives.
    /// </summary>
    RecordTooLarge = 24,

    /// <summary>
    /// The operation does not apply to the stored value (not an integer or a number, an overflow, a result
    /// above the size limit). Decided at apply time identically by every node; nothing changed.
    /// </summary>
    InvalidValue = 25,

    /// <summary>
    /// The request's keys are in slots of more than one replica group, and it must be applied in one (a transaction,
    /// a guarded write, a copy between keys): nothing was done. Put related keys in one slot with a <c>{hash tag}</c>.
    /// Redis answers <c>CROSSSLOT</c>. The request fails, the connection lives.
    /// </summary>
    CrossSlot = 26,

    /// <summary>Too many requests in flight on the connection or the router.</summary>
    Busy = 30,
    /// <summary>A node failed to apply or answer the request.</summary>
    InternalError = 31,
    /// <summary>
    /// A node cannot store writes (its disk is full or failing), as Redis answers MISCONF: the write was
    /// not acknowledged, the node leaves serving until its storage recovers, then catches up.
    /// </summary>
    StorageUnavailable = 32,
}

public static class StatusCodeExtensions
{
    /// <summary>Ok, NotFound and ConditionFailed are answers; everything else is an error with a message body.</summary>
    public static bool IsError(this StatusCode status) => status is not (StatusCode.Ok or StatusCode.NotFound or StatusCode.ConditionFailed);
}

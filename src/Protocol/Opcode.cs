namespace KvnDb.Protocol;

/// <summary>Operation carried by a frame. Values are part of the wire format: never renumber.</summary>
public enum Opcode : byte
{
    /// <summary>First frame of every connection: protocol version, role, password.</summary>
    Hello = 0x01,
    Ping = 0x02,
    /// <summary>Router counters and node table, as UTF-8 "name: value" lines.</summary>
    Info = 0x03,
    /// <summary>
    /// Router to peer, unanswered (NoReply, control id): the router closes this connection, and why
    /// (<see cref="ClosingNotice"/>): Unavailable when it is stopping, ProtocolError when the peer broke the protocol.
    /// </summary>
    Closing = 0x04,
    /// <summary>
    /// Client to router: <c>[u8 1]</c> starts a stream of <see cref="MonitorEvent"/> frames describing every
    /// request the router receives from any client; <c>[u8 0]</c> (NoReply) stops it. A monitor that falls
    /// behind loses events (with a Dropped notice), never slows anyone's writes.
    /// </summary>
    Monitor = 0x05,

    Get = 0x10,
    Exists = 0x11,
    MultiGet = 0x12,
    /// <summary>Key listing, answered by a stream of chunk frames (flag <see cref="FrameFlags.More"/>).</summary>
    ListKeys = 0x13,
    /// <summary>Get with the key's version and expiry (<see cref="VersionedGetReply"/>).</summary>
    GetVersioned = 0x14,
    /// <summary>The key's version, absolute expiry and remaining time (<see cref="TimeToLiveReply"/>).</summary>
    TimeToLive = 0x15,
    /// <summary>The number of keys of one database, or of the whole store, kept by the node in O(1) (<see cref="KeyCountRequest"/>).</summary>
    KeyCount = 0x16,
    /// <summary>One page of a scan of a database's keys in scan order, O(count) on the node (<see cref="ScanKeysRequest"/>, <see cref="ScanKeysReply"/>).</summary>
    ScanKeys = 0x18,

    Set = 0x20,
    Delete = 0x21,
    MultiSet = 0x22,

    // Writes whose effect depends on the current state: evaluated by every node at apply time, in
    // sequence order, with the router's time; the reply body carries the outcome (docs/protocol.md).

    /// <summary>Conditional set: if absent, if present, if the version equals; optional expiry and old value (<see cref="SetWhenRequest"/>).</summary>
    SetWhen = 0x23,
    /// <summary>Deletes the key and returns its value (<see cref="KeyRequest"/> body, <see cref="VersionedValueReply"/>).</summary>
    GetDelete = 0x24,
    /// <summary>Adds a 64-bit integer to a decimal integer value (<see cref="IncrementRequest"/>).</summary>
    Increment = 0x25,
    /// <summary>Adds a double to a decimal number value (<see cref="FloatIncrementRequest"/>).</summary>
    IncrementFloat = 0x26,
    /// <summary>Appends bytes to the value (<see cref="SetRequest"/> body).</summary>
    Append = 0x27,
    /// <summary>Overwrites part of the value at an offset, zero-padding (<see cref="SetRangeRequest"/>).</summary>
    SetRange = 0x28,
    /// <summary>A batch of writes applied atomically under one sequence, with version guards (<see cref="TransactionRequest"/>).</summary>
    Transaction = 0x29,
    /// <summary>Sets, changes or removes the key's expiry (<see cref="ExpireRequest"/>).</summary>
    Expire = 0x2A,
    /// <summary>Router to nodes, sequenced: remove every key whose expiry is before the write's time (<see cref="TimeMarkReply"/>).</summary>
    TimeMark = 0x2B,
    /// <summary>Returns the value and sets, changes or removes the expiry in one step (Redis GETEX; <see cref="ExpireRequest"/> body, <see cref="VersionedValueReply"/>).</summary>
    GetExpire = 0x2C,
    /// <summary>Copies a key's value and expiry to another key, optionally deleting the source (RENAME, COPY, MOVE; <see cref="CopyKeyRequest"/>).</summary>
    CopyKey = 0x2D,
    /// <summary>Deletes every key of one database, or every key (FLUSHDB, FLUSHALL; <see cref="KeyCountRequest"/> body).</summary>
    FlushKeys = 0x2E,
    /// <summary>
    /// A transaction with Redis EXEC semantics (<see cref="TransactionRequest"/> body): guards decide all or
    /// nothing, but an operation failing on its value (InvalidValue) answers its error and the others still apply.
    /// </summary>
    Batch = 0x2F,

    /// <summary>
    /// Client to router: every node's key count, last sequence and content digest, taken at the same
    /// point of the write stream. Router to node: that node's own digest.
    /// </summary>
    Digest = 0x30,

    /// <summary>Router to node: how the node joins (already current, replay, or full sync) and the history it joins.</summary>
    SyncBegin = 0x31,
    /// <summary>Router to node: the node now reflects every write up to the given sequence; it may serve.</summary>
    SyncEnd = 0x32,
    /// <summary>Router to donor node: the next chunk of a snapshot.</summary>
    SnapshotRead = 0x33,
    /// <summary>Router to joining node: a snapshot chunk to apply (records newer than what it holds).</summary>
    SnapshotApply = 0x34,
    /// <summary>Node to router, unanswered: the node's storage health (checkpoints, free space, failures), for info.</summary>
    NodeStatus = 0x35,

    // Slot migration between replica groups (docs/architecture.md, "Slot migration"; docs/protocol.md section 6.3).

    /// <summary>
    /// Router to a donor node of the source group (control id): the next chunk of a snapshot of the keys in the
    /// given slots (<see cref="MigrationRead"/>); answered like <see cref="SnapshotRead"/>, with this opcode.
    /// </summary>
    MigrationRead = 0x36,
    /// <summary>
    /// Router to the target group's nodes, sequenced: a migration chunk (a <see cref="SnapshotChunkHeader"/> body) whose
    /// records replace what the node holds for their keys (a record of sequence 0 deletes the key), at this write's sequence.
    /// </summary>
    MigrationApply = 0x37,
    /// <summary>Router to nodes, sequenced: deletes every key in the given slots (<see cref="FlushSlotsRequest"/>).</summary>
    FlushSlots = 0x38,
    /// <summary>Client to router: start a slot migration between groups (<see cref="SlotControlRequest"/>).</summary>
    SlotControl = 0x39,
    /// <summary>Client to router: add an empty replica group to the running router (<see cref="GroupControlRequest"/>).</summary>
    GroupControl = 0x3A,
}

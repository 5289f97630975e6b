namespace KvnDb.Protocol;

/// <summary>Operation carried by a frame. Values are part of the wire format: never renumber.</summary>
public enum Opcode : byte
{
    /// <summary>First frame of every connection: protocol version, role, password.</summary>
    Hello = 0x01,
    Ping = 0x02,
    /// <summary>Router counters and node table, as UTF-8 "name: value" lines.</summary>
    Info = 0x03,

    Get = 0x10,
    Exists = 0x11,
    MultiGet = 0x12,
    /// <summary>Key listing, answered by a stream of chunk frames (flag <see cref="FrameFlags.More"/>).</summary>
    ListKeys = 0x13,

    Set = 0x20,
    Delete = 0x21,
    MultiSet = 0x22,

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
}

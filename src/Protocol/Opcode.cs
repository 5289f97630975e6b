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

    /// <summary>Router to node: key count, last sequence and content digest of the node.</summary>
    Digest = 0x30,
}

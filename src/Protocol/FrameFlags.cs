namespace KvnDb.Protocol;

/// <summary>Bit flags in byte 5 of the header.</summary>
[Flags]
public enum FrameFlags : byte
{
    None = 0,
    /// <summary>Set on every response frame.</summary>
    Response = 0x01,
    /// <summary>Response: more frames with the same request id follow (streamed replies).</summary>
    More = 0x02,
    /// <summary>Request: the sender wants no response at all (fire and forget).</summary>
    NoReply = 0x04,
    /// <summary>Two bits selecting the <see cref="WriteConcern"/> of a write request.</summary>
    WriteConcernMask = 0x18,
}

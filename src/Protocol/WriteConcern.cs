namespace KvnDb.Protocol;

/// <summary>When the router acknowledges a write. Encoded in bits 3-4 of the flags byte.</summary>
public enum WriteConcern : byte
{
    /// <summary>Every node that was serving or syncing when the write arrived has applied it.</summary>
    All = 0,
    /// <summary>The first node has applied it.</summary>
    One = 1,
    /// <summary>The router has sequenced it and queued it to every node.</summary>
    None = 2,
}

public static class WriteConcernFlags
{
    private const int Shift = 3;

    public static WriteConcern GetWriteConcern(this FrameFlags flags) =>
        (WriteConcern)(((byte)flags & (byte)FrameFlags.WriteConcernMask) >> Shift);

    public static FrameFlags WithWriteConcern(this FrameFlags flags, WriteConcern concern) =>
        (flags & ~FrameFlags.WriteConcernMask) | (FrameFlags)(((byte)concern << Shift) & (byte)FrameFlags.WriteConcernMask);
}

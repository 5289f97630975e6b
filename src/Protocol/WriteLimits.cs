namespace KvnDb.Protocol;

/// <summary>
/// Sizes every node must refuse alike, so a write one node cannot hold fails on every node (never a
/// mixed outcome). Derived from the frame limit, which routers and nodes share.
/// </summary>
public static class WriteLimits
{
    /// <summary>
    /// Room a record must leave under the frame limit: a donor sends a record alone in a snapshot chunk
    /// (13-byte chunk header, 8-byte sequence, 8-byte expiry), and nodes receive a write with the router's
    /// 16-byte prefix in front. A client body, and any value a node computes, stays under the limit minus this.
    /// </summary>
    public const int ForwardingHeadroom = SnapshotChunkHeader.Size + 8 + 8;

    /// <summary>The largest value a node may compute for a key (Append, SetRange, Increment results).</summary>
    public static long MaxValueLength(int maxFrameSize, int keyLength) =>
        (long)maxFrameSize - ForwardingHeadroom - FrameWriter.FieldSize(keyLength) - FrameWriter.LengthPrefixSize;
}

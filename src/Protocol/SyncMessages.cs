namespace KvnDb.Protocol;

/// <summary>
/// Shared by the node-link control messages (<see cref="SyncBegin"/>, <see cref="SyncEnd"/>,
/// <see cref="SnapshotRead"/>, snapshot chunks, router pings).
/// </summary>
public static class SyncMessages
{
    /// <summary>Marks request ids of control traffic on node links (sync frames, pings), apart from the pending-table ids.</summary>
    public const ulong ControlIdBit = 1UL << 63;
}

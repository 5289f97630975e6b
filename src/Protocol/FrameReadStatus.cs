namespace KvnDb.Protocol;

public enum FrameReadStatus
{
    /// <summary>A complete frame was read.</summary>
    Complete,
    /// <summary>More bytes are needed.</summary>
    NeedMoreData,
    /// <summary>The header claims a body above the limit: refuse and close, never buffer it.</summary>
    TooLarge,
}

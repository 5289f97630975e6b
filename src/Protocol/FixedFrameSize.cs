namespace KvnDb.Protocol;

/// <summary>One limit for every frame: what most readers use.</summary>
public readonly struct FixedFrameSize(int maxBodySize) : IFrameSizeRule
{
    public int MaxBodySize(in FrameHeader header) => maxBodySize;
}

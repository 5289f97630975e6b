namespace KvnDb.Protocol;

/// <summary>
/// The largest body a reader accepts for a frame, decided from its header alone (before any of the body is
/// buffered). A struct, so <see cref="FrameLoop"/> calls it directly with nothing allocated.
/// </summary>
public interface IFrameSizeRule
{
    int MaxBodySize(in FrameHeader header);
}

namespace KvnDb.Protocol;

/// <summary>
/// The frame limit on a node link, from the header: the router's frame limit for replies, <see cref="NodeReplyRules.MaxErrorBody"/>
/// for errors, so a node claiming a huge error message is refused before any of it is buffered.
/// </summary>
public readonly struct NodeReplySize(int maxFrameSize) : IFrameSizeRule
{
    public int MaxBodySize(in FrameHeader header) =>
        header.Status.IsError() ? Math.Min(maxFrameSize, NodeReplyRules.MaxErrorBody) : maxFrameSize;
}

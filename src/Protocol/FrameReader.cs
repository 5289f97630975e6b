using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// Finds complete frames in a pipe's buffer. The returned body is a slice of that buffer:
/// it dies at the next <c>AdvanceTo</c>.
/// </summary>
public static class FrameReader
{
    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>. On success, advances
    /// <paramref name="buffer"/> past the frame. The size limit is checked from the header
    /// alone, so a peer that claims a huge body is refused before any of it is buffered.
    /// </summary>
    public static FrameReadStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxBodySize,
        out FrameHeader header, out ReadOnlySequence<byte> frame) =>
        TryRead(ref buffer, new FixedFrameSize(maxBodySize), out header, out frame);

    /// <summary>As the other overload, with a limit chosen from each header (<see cref="IFrameSizeRule"/>).</summary>
    public static FrameReadStatus TryRead<TSize>(ref ReadOnlySequence<byte> buffer, TSize size,
        out FrameHeader header, out ReadOnlySequence<byte> frame)
        where TSize : struct, IFrameSizeRule
    {
        frame = default;
        if (buffer.Length < ProtocolLimits.HeaderSize)
        {
            header = default;
            return FrameReadStatus.NeedMoreData;
        }

        header = FrameHeader.Read(buffer);
        if (header.BodyLength < 0 || header.BodyLength > size.MaxBodySize(header))
            return FrameReadStatus.TooLarge;

        long frameLength = ProtocolLimits.HeaderSize + header.BodyLength;
        if (buffer.Length < frameLength)
            return FrameReadStatus.NeedMoreData;

        frame = buffer.Slice(0, frameLength);
        buffer = buffer.Slice(frameLength);
        return FrameReadStatus.Complete;
    }
}

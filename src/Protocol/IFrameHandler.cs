using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// What a connection does with the frames <see cref="FrameLoop"/> finds. Implement it on a struct
/// that wraps the connection's object: the loop is generic over it, so calls are direct and inlinable
/// and nothing is allocated per frame. The frame (header and body) points into the pipe's buffer and
/// dies when the loop advances: copy on purpose what must outlive the call.
/// </summary>
public interface IFrameHandler
{
    /// <summary>One complete frame (<paramref name="frame"/> includes the 16-byte header).</summary>
    FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame);

    /// <summary>The frame for which <see cref="OnFrame"/> returned <see cref="FrameAction.HandleAsync"/>; it stays valid until this completes.</summary>
    ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken cancellationToken);

    /// <summary>
    /// End of a batch: after the complete frames of a read (possibly none), and before a pause, an
    /// async frame, a stop or a return. The place to flush once.
    /// </summary>
    ValueTask OnBatchEndAsync(CancellationToken cancellationToken);

    /// <summary>After <see cref="FrameAction.Pause"/>: completes when the paused frame may be handled.</summary>
    ValueTask OnPausedAsync(CancellationToken cancellationToken);

    /// <summary>A header claims a body above the limit; the loop then ends the batch and returns <see cref="FrameLoopExit.TooLarge"/>.</summary>
    void OnFrameTooLarge(in FrameHeader header);
}

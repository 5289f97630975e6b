using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace KvnDb.Protocol;

/// <summary>
/// The one <c>ReadAsync → FrameReader.TryRead → AdvanceTo</c> loop (after Bedrock's
/// <c>ProtocolReader</c>): every complete frame of a read goes to the handler, then one
/// end-of-batch call (flush once); the body size is checked from the header before any of it is
/// buffered; a handler can pause mid-buffer (only what it handled is consumed), stop, or take one
/// frame asynchronously. Allocates nothing per frame.
/// </summary>
public static class FrameLoop
{
    private enum Step
    {
        NeedMoreData,
        Pause,
        Stop,
        HandleAsync,
        TooLarge,
    }

    /// <summary>Runs until the peer closes, the handler stops, a frame is too large, or the read is cancelled.</summary>
    /// <param name="input">The connection's input; the loop never completes it.</param>
    /// <param name="handler">Usually a struct wrapping the connection (see <see cref="IFrameHandler"/>).</param>
    /// <param name="maxBodySize">Largest body accepted; a header claiming more ends the loop.</param>
    /// <param name="cancellationToken">Passed to every read and every handler call.</param>
    public static ValueTask<FrameLoopExit> RunAsync<THandler>(PipeReader input, THandler handler, int maxBodySize, CancellationToken cancellationToken = default)
        where THandler : IFrameHandler =>
        RunAsync(input, handler, new FixedFrameSize(maxBodySize), cancellationToken);

    /// <summary>
    /// As <see cref="RunAsync{THandler}(PipeReader, THandler, int, CancellationToken)"/>, with a limit that depends on
    /// the header (an error reply from a node may be much smaller than a value): checked before the body is buffered.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<FrameLoopExit> RunAsync<THandler, TSize>(PipeReader input, THandler handler, TSize size, CancellationToken cancellationToken = default)
        where THandler : IFrameHandler
        where TSize : struct, IFrameSizeRule
    {
        ArgumentNullException.ThrowIfNull(input);
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return FrameLoopExit.Canceled;
            }
            while (true)
            {
                var step = HandleFrames(ref handler, ref buffer, size, out var header, out var frame);
                await handler.OnBatchEndAsync(cancellationToken).ConfigureAwait(false);
                switch (step)
                {
                    case Step.HandleAsync:
                        await handler.OnFrameAsync(header, frame, cancellationToken).ConfigureAwait(false);
                        buffer = buffer.Slice(frame.End);
                        continue; // the rest of this read, without reading again
                    case Step.Pause:
                        input.AdvanceTo(buffer.Start); // examined = consumed: the next read returns at once
                        await handler.OnPausedAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    case Step.Stop:
                        input.AdvanceTo(buffer.Start);
                        return FrameLoopExit.Stopped;
                    case Step.TooLarge:
                        input.AdvanceTo(buffer.Start);
                        return FrameLoopExit.TooLarge;
                    default:
                        input.AdvanceTo(buffer.Start, buffer.End);
                        if (result.IsCompleted)
                            return buffer.IsEmpty ? FrameLoopExit.Completed : FrameLoopExit.Truncated;
                        break;
                }
                break;
            }
        }
    }

    /// <summary>
    /// Reads one frame and copies it (the frames after it stay in the pipe); null when the peer closed
    /// or the read was cancelled first. Allocates: for handshakes and tools, not for serving.
    /// </summary>
    /// <exception cref="InvalidDataException">The header claims a body above <paramref name="maxBodySize"/>.</exception>
    public static async ValueTask<ReceivedFrame?> ReadFrameAsync(PipeReader input, int maxBodySize, CancellationToken cancellationToken = default)
    {
        var copier = new FrameCopier();
        var exit = await RunAsync(input, copier, maxBodySize, cancellationToken).ConfigureAwait(false);
        if (exit == FrameLoopExit.TooLarge)
            throw new InvalidDataException($"peer sent a frame of {(uint)copier.TooLarge.BodyLength} bytes, above the limit of {maxBodySize} bytes");
        return copier.Frame;
    }

    /// <summary>
    /// Hands every complete frame at the start of <paramref name="buffer"/> to the handler, leaving
    /// <paramref name="buffer"/> after the last one it consumed. For <see cref="Step.HandleAsync"/>,
    /// <paramref name="frame"/> is the frame still to handle (and <paramref name="buffer"/> starts at it).
    /// </summary>
    private static Step HandleFrames<THandler, TSize>(ref THandler handler, ref ReadOnlySequence<byte> buffer, TSize size,
        out FrameHeader header, out ReadOnlySequence<byte> frame)
        where THandler : IFrameHandler
        where TSize : struct, IFrameSizeRule
    {
        while (true)
        {
            var rest = buffer;
            switch (FrameReader.TryRead(ref rest, size, out header, out frame))
            {
                case FrameReadStatus.NeedMoreData:
                    return Step.NeedMoreData;
                case FrameReadStatus.TooLarge:
                    handler.OnFrameTooLarge(header);
                    return Step.TooLarge;
            }
            switch (handler.OnFrame(header, frame))
            {
                case FrameAction.Continue:
                    buffer = rest;
                    break;
                case FrameAction.Stop:
                    buffer = rest;
                    return Step.Stop;
                case FrameAction.Pause:
                    return Step.Pause;
                default:
                    return Step.HandleAsync;
            }
        }
    }

    private sealed class FrameCopier : IFrameHandler
    {
        public ReceivedFrame? Frame { get; private set; }

        public FrameHeader TooLarge { get; private set; }

        public FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
        {
            Frame = new ReceivedFrame(header, frame.Slice(ProtocolLimits.HeaderSize).ToArray());
            return FrameAction.Stop;
        }

        public ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken cancellationToken) => default;

        public ValueTask OnBatchEndAsync(CancellationToken cancellationToken) => default;

        public ValueTask OnPausedAsync(CancellationToken cancellationToken) => default;

        public void OnFrameTooLarge(in FrameHeader header) => TooLarge = header;
    }
}

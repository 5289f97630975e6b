using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>The node's hello: send it, read the one reply frame through <see cref="FrameLoop"/>, and judge it.</summary>
internal static class RouterHandshake
{
    /// <summary>Returns the connection id the router gave the link; throws <see cref="NodeFatalException"/> for a refusal retrying cannot fix.</summary>
    public static async Task<ulong> RunAsync(PipeReader input, PipeWriter output, HelloRequest hello, int maxFrameSize, CancellationToken cancellationToken)
    {
        hello.Write(output, 0);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var reply = new ReplyBox();
        var exit = await FrameLoop.RunAsync(input, new ReplyHandler(reply), maxFrameSize, cancellationToken).ConfigureAwait(false);
        if (exit != FrameLoopExit.Stopped)
            throw new InvalidDataException(exit == FrameLoopExit.TooLarge
                ? "the router answered the hello with a frame above the limit"
                : "the router closed the connection during the handshake");
        switch (reply.Status)
        {
            case StatusCode.Ok:
                return HelloResponse.TryRead(reply.Body, out var response) ? response.ConnectionId : 0;
            case StatusCode.AuthFailed or StatusCode.VersionMismatch or StatusCode.NotAuthorized:
                throw new NodeFatalException($"router refused the node: {reply.Status}: {Encoding.UTF8.GetString(reply.Body)}");
            default:
                throw new InvalidDataException($"router answered hello with {reply.Status}: {Encoding.UTF8.GetString(reply.Body)}");
        }
    }

    /// <summary>The reply, copied out of the pipe before the loop advances past it.</summary>
    private sealed class ReplyBox
    {
        public StatusCode Status;
        public byte[] Body = [];
    }

    private readonly struct ReplyHandler(ReplyBox reply) : IFrameHandler
    {
        public FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
        {
            reply.Status = header.Status;
            reply.Body = frame.Slice(ProtocolLimits.HeaderSize).ToArray();
            return FrameAction.Stop;
        }

        public ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask OnBatchEndAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask OnPausedAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void OnFrameTooLarge(in FrameHeader header)
        {
        }
    }
}

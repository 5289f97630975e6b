using System.IO.Pipelines;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>The node's hello: send it, read the one reply frame, and judge it.</summary>
internal static class RouterHandshake
{
    /// <summary>Returns the connection id the router gave the link; throws <see cref="NodeFatalException"/> for a refusal retrying cannot fix.</summary>
    public static async Task<ulong> RunAsync(PipeReader input, PipeWriter output, HelloRequest hello, int maxFrameSize, CancellationToken cancellationToken)
    {
        hello.Write(output, 0);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var reply = await FrameLoop.ReadFrameAsync(input, maxFrameSize, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException("router closed the connection during the handshake");
        switch (reply.Header.Status)
        {
            case StatusCode.Ok:
                return HelloResponse.TryRead(reply.Body, out var response) ? response.ConnectionId : 0;
            case StatusCode.AuthFailed or StatusCode.VersionMismatch or StatusCode.NotAuthorized:
                throw new NodeFatalException($"router refused the node: {reply.Header.Status}: {ErrorReply.Read(reply.Body)}");
            default:
                throw new InvalidDataException($"router answered hello with {reply.Header.Status}: {ErrorReply.Read(reply.Body)}");
        }
    }
}

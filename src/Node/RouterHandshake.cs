using System.IO.Pipelines;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>The node's hello: send it, read the one reply frame, and judge it.</summary>
internal static class RouterHandshake
{
    /// <summary>
    /// Returns the router's answer (connection id and the limits the link adopts); throws
    /// <see cref="NodeFatalException"/> for a refusal retrying cannot fix (password, protocol version).
    /// </summary>
    public static async Task<HelloResponse> RunAsync(PipeReader input, PipeWriter output, HelloRequest hello, int maxFrameSize, CancellationToken cancellationToken)
    {
        hello.Write(output, 0);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var reply = await FrameLoop.ReadFrameAsync(input, maxFrameSize, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException("router closed the connection during the handshake");
        switch (reply.Header.Status)
        {
            case StatusCode.Ok:
                // A router of another version that answered Ok anyway: its later frames would not be understood either.
                if (!HelloResponse.TryReadNodeReply(reply.Body, out var response))
                    throw new NodeFatalException($"router refused the node: its hello reply has a layout this node (protocol {ProtocolLimits.Version}) does not read");
                if (response.Version != ProtocolLimits.Version)
                    throw new NodeFatalException($"router refused the node: protocol version mismatch: router speaks {response.Version}, node {ProtocolLimits.Version}");
                return response;
            case StatusCode.NotLeader:
                throw new RouterRedirectException(ErrorReply.Read(reply.Body));
            case StatusCode.AuthFailed or StatusCode.VersionMismatch or StatusCode.NotAuthorized or StatusCode.ProtocolError:
                throw new NodeFatalException($"router refused the node: {reply.Header.Status}: {ErrorReply.Read(reply.Body)}");
            default:
                throw new InvalidDataException($"router answered hello with {reply.Header.Status}: {ErrorReply.Read(reply.Body)}");
        }
    }

    /// <summary>
    /// Fencing: a router of a group names the term it leads; one below the highest term this node has followed is a
    /// deposed leader, refused before it can send a write. A new highest term is written down (with the data) first.
    /// </summary>
    public static void CheckTerm(HelloResponse router, NodeIdentity identity, string address)
    {
        if (router.Router is not { Term: > 0 } leader)
            return; // a single router: no group, no term
        if (leader.Term < identity.RouterTerm)
            throw new RouterFencedException($"router {address} leads term {leader.Term}, but this node has followed term {identity.RouterTerm}: it was deposed; looking for the current leader");
        identity.SetRouterTerm(leader.Term);
    }

    /// <summary>
    /// The router's limits are adopted for the link, unless they pass what this node was told to honour
    /// (<c>--max-frame</c>, <c>--max-key</c>): then it refuses the router at hello, clearly, rather than fail later.
    /// </summary>
    public static void CheckLimits(HelloResponse router, NodeOptions options)
    {
        if (options.FrameCeiling is { } frame && router.MaxFrameSize > frame)
            throw new NodeFatalException($"the router's frame limit ({router.MaxFrameSize} bytes, its --max-frame) is above this node's --max-frame of {frame} bytes: " +
                "the router would forward frames this node will not take; lower the router's --max-frame or raise the node's");
        if (options.KeyCeiling is { } key && router.MaxKeySize > key)
            throw new NodeFatalException($"the router's key limit ({router.MaxKeySize} bytes, its --max-key) is above this node's --max-key of {key} bytes: " +
                "the router would accept keys this node will not take; lower the router's --max-key or raise the node's");
    }
}

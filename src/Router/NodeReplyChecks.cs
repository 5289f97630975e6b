using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// The router's side of "a node is a peer to verify" for answers to pending writes and digests: an answer must be
/// for something that link was sent, at its place in the link's stream, and have that answer's shape
/// (<see cref="NodeReplyRules"/>). A violation drops the node (<see cref="NodeLink.Violate"/>); what it owed is
/// settled by the other nodes, and its word never reaches a client.
/// </summary>
internal static class NodeReplyChecks
{
    /// <summary>
    /// Why a node's answer to a pending write breaks the rules, or null. The n-th write answer on a link is for the
    /// n-th write sent on it (every log frame is answered, in order), so the request it names must be the write at
    /// the link's next position: an answer to a write it was not sent, or a second answer, names another one.
    /// Caller holds the request's lock; <see cref="NodeLink"/> has already counted an acknowledgement.
    /// </summary>
    public static string? CheckWrite(PendingRequest request, NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        var acknowledges = !header.Status.IsError() || header.Status == StatusCode.InvalidValue;
        var position = acknowledges ? node.AckedSequence : node.AckedSequence + 1;
        if (request.Sequence != position)
            return $"it answered the {request.Opcode} at sequence {request.Sequence} where the write at sequence {position} was due";
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        return NodeReplyRules.IsWellFormedWrite(header.Opcode, header.Status, body.Span)
            ? null
            : $"its {header.Opcode} answer ({header.Status}, {header.BodyLength} bytes) does not have the shape of that write's outcome";
    }

    /// <summary>Why a node's digest answer breaks the rules, or null: one answer per digest the link was sent, of the digest's shape.</summary>
    public static string? CheckDigest(PendingRequest request, NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        if ((request.AwaitedNodes & node.Bit) == 0)
            return "it answered a Digest the router did not send it (or answered one twice)";
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        return NodeReplyRules.IsWellFormedDigest(header.Status, body.Span)
            ? null
            : $"its Digest answer ({header.Status}, {header.BodyLength} bytes) does not have the digest's shape";
    }
}

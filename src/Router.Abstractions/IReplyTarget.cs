using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// Where the answers to a request go. The native <c>ClientSession</c> forwards node replies
/// as they are; another front end (RESP) translates them. Calls come from node links, under the
/// pending request's lock; the target writes into <see cref="Output"/>, which the caller flushes.
/// </summary>
internal interface IReplyTarget
{
    OutputChannel Output { get; }

    /// <summary>A node's reply frame for the request the client numbered <paramref name="requestId"/>.</summary>
    void Forward(in ReadOnlySequence<byte> frame, ulong requestId);

    /// <summary>A reply without body (write acknowledgements).</summary>
    void Status(Opcode opcode, ulong requestId, StatusCode status);

    void Error(Opcode opcode, ulong requestId, StatusCode status, string message);

    /// <summary>An Ok reply with a body composed by the router (digest).</summary>
    void Raw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body);
}

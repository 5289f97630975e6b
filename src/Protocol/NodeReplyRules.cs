using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// What a router accepts from a node (docs/protocol.md section 6, "A node is a peer to verify"): a node's
/// frames are answers to what the router sent it, with a defined status, <see cref="FrameFlags.More"/> only
/// on a key listing or a multi-get asked in chunks, an error message of bounded size and a body of the reply's shape. The router checks
/// them before anything reaches a client; a frame that breaks them drops the node.
/// </summary>
public static class NodeReplyRules
{
    /// <summary>Largest error message a node may send (its messages are a line or two).</summary>
    public const int MaxErrorBody = 16 * 1024;

    /// <summary>Statuses a node may answer with; any other (a router-only status, an undefined code) is a violation.</summary>
    public static bool IsNodeStatus(StatusCode status) => status is StatusCode.Ok or StatusCode.NotFound or StatusCode.ConditionFailed
        or StatusCode.ProtocolError or StatusCode.FrameTooLarge or StatusCode.KeyTooLarge or StatusCode.UnknownOpcode
        or StatusCode.RecordTooLarge or StatusCode.InvalidValue or StatusCode.Busy or StatusCode.InternalError or StatusCode.StorageUnavailable;

    /// <summary>
    /// Checks a header from a node; returns why it breaks the rules, or null. Requests a node may send: its ping,
    /// its storage report; everything else must be a response.
    /// </summary>
    public static string? CheckHeader(in FrameHeader header)
    {
        if (!header.IsResponse)
            return header.Opcode is Opcode.Ping or Opcode.NodeStatus ? null : $"it sent a {header.Opcode} request, which nodes never send";
        if (!IsNodeStatus(header.Status))
            return $"it answered {header.Opcode} with status {(ushort)header.Status}, which is not a node's status";
        if (header.HasMore && (header.Opcode is not (Opcode.ListKeys or Opcode.MultiGet) || header.Status.IsError()))
            return $"it set More on a {header.Opcode} reply, which is a single frame";
        if (header.Status.IsError() && header.BodyLength > MaxErrorBody)
            return $"it sent an error body of {(uint)header.BodyLength} bytes (at most {MaxErrorBody})";
        return null;
    }

    /// <summary>
    /// The body of a node's reply to a read has that read's shape: a Get's one value, an Exists' nothing, a
    /// MultiGet's one entry per key asked for (<paramref name="request"/> is the frame the router sent, a
    /// <see cref="TimedRead"/>), a listing chunk's or a scan page's keys, a versioned reply's fixed fields, a key count's one count (or sixteen). Errors carry a message.
    /// </summary>
    public static bool IsWellFormedRead(Opcode opcode, StatusCode status, ReadOnlySpan<byte> body, ReadOnlySpan<byte> request)
    {
        if (status.IsError())
            return true; // a message for humans: bounded by CheckHeader, never parsed
        if (status == StatusCode.NotFound)
            return body.IsEmpty && opcode is not (Opcode.MultiGet or Opcode.ListKeys or Opcode.ScanKeys);
        if (status != StatusCode.Ok)
            return false;
        switch (opcode)
        {
            case Opcode.Exists:
                return body.IsEmpty;
            case Opcode.Get:
                return ValueReply.TryRead(body, out _);
            case Opcode.GetVersioned:
                return VersionedGetReply.TryRead(body, out _, out _, out _);
            case Opcode.TimeToLive:
                return TimeToLiveReply.TryRead(body, out _, out _, out _);
            case Opcode.ListKeys:
                if (!KeyListChunk.TryRead(body, out var chunk))
                    return false;
                while (chunk.TryReadNext(out _))
                {
                }
                return chunk.IsComplete;
            case Opcode.ScanKeys:
                if (!ScanKeysReply.TryRead(body, out var page))
                    return false;
                while (page.TryReadNext(out _))
                {
                }
                return page.IsComplete;
            case Opcode.KeyCount:
                var counted = ProtocolLimits.HeaderSize + TimedRead.TimeSize;
                return request.Length > counted
                    && body.Length == (request[counted] == KeyCountRequest.PerDatabase ? KeyCountRequest.PerDatabaseReplySize : KeyCountRequest.ReplySize);
            case Opcode.MultiGet:
                return IsWellFormedMultiGet(body, request, 0, more: false, out _);
            default:
                return false;
        }
    }

    /// <summary>
    /// An Ok MultiGet reply frame, whole or one chunk: <paramref name="before"/> entries came in earlier chunks of the
    /// same reply. A chunk (<paramref name="more"/>) answers only a request that was flagged More, holds at least one
    /// entry and leaves some for later; the last frame brings the entries up to the count asked for, exactly.
    /// </summary>
    public static bool IsWellFormedMultiGet(ReadOnlySpan<byte> body, ReadOnlySpan<byte> request, uint before, bool more, out uint entries)
    {
        entries = 0;
        if (request.Length < ProtocolLimits.HeaderSize + TimedRead.TimeSize + CountedBodyWriter.HeaderSize
            || !MultiGetReply.TryRead(body, out var reply))
            return false;
        var asked = BinaryPrimitives.ReadUInt32LittleEndian(request[(ProtocolLimits.HeaderSize + TimedRead.TimeSize)..]);
        var chunked = FrameHeader.Read(request).HasMore;
        if ((more && !chunked) || before > asked || (before > 0 && !chunked))
            return false;
        var left = asked - before;
        if (more ? reply.Count == 0 || reply.Count >= left : reply.Count != left)
            return false;
        while (reply.TryReadNext(out _, out _))
        {
        }
        entries = reply.Count;
        return reply.IsComplete;
    }

    /// <summary>
    /// The body of a node's answer to a sequenced write has that write's outcome shape (docs/protocol.md section 5.1):
    /// an empty acknowledgement for Set, MultiSet, FlushKeys, Delete and CopyKey, a versioned number for Increment,
    /// Append, SetRange and Expire, a versioned value for SetWhen, GetDelete, IncrementFloat and GetExpire, a time
    /// mark's removed count and next expiry, a transaction's entries (or the failed guard's index), and only the
    /// statuses each can answer. Errors carry a message.
    /// </summary>
    public static bool IsWellFormedWrite(Opcode opcode, StatusCode status, ReadOnlySpan<byte> body)
    {
        if (status.IsError())
            return true; // a message for humans: bounded by CheckHeader, never parsed
        var ok = status == StatusCode.Ok;
        var notFound = status == StatusCode.NotFound;
        var conditionFailed = status == StatusCode.ConditionFailed;
        switch (opcode)
        {
            case Opcode.Set or Opcode.MultiSet or Opcode.FlushKeys:
                return ok && body.IsEmpty;
            case Opcode.Delete:
                return (ok || notFound) && body.IsEmpty;
            case Opcode.CopyKey:
                return body.IsEmpty;
            case Opcode.Increment or Opcode.Append or Opcode.SetRange:
                return ok && body.Length == VersionedNumberReply.Size;
            case Opcode.Expire:
                return notFound ? body.IsEmpty : body.Length == VersionedNumberReply.Size;
            case Opcode.SetWhen:
                return !notFound && VersionedValueReply.TryRead(body, out _, out _, out _);
            case Opcode.IncrementFloat:
                return ok && VersionedValueReply.TryRead(body, out _, out _, out _);
            case Opcode.GetDelete or Opcode.GetExpire:
                return notFound ? body.IsEmpty : ok && VersionedValueReply.TryRead(body, out _, out _, out _);
            case Opcode.TimeMark:
                return ok && body.Length == TimeMarkReply.Size;
            case Opcode.Transaction or Opcode.Batch:
                if (conditionFailed)
                    return TransactionReply.TryReadFailedGuard(body, out _);
                if (!ok || !TransactionReply.TryRead(body, out var entries))
                    return false;
                while (entries.TryReadNext(out var entryStatus, out _))
                {
                    if (!IsNodeStatus(entryStatus))
                        return false;
                }
                return entries.IsComplete;
            default:
                return false;
        }
    }

    /// <summary>A node's digest answer: Ok with exactly the <see cref="NodeDigest"/> fields, or an error with a message.</summary>
    public static bool IsWellFormedDigest(StatusCode status, ReadOnlySpan<byte> body) =>
        status.IsError() || (status == StatusCode.Ok && body.Length == NodeDigest.Size);
}

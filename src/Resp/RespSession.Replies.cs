using System.Buffers;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.Resp;

/// <summary>
/// The <see cref="IReplyTarget"/> side: native replies, called from node links (or from the cluster
/// while submitting) under the pending request's lock, turned into RESP in the command's slot.
/// </summary>
internal sealed partial class RespSession
{
    /// <summary>A node's reply to a read (every read reply arrives here, errors and streamed chunks included).</summary>
    public void Forward(in ReadOnlySequence<byte> frame, ulong requestId)
    {
        var header = FrameHeader.Read(frame);
        lock (_replyLock)
        {
            var slot = Find(requestId);
            if (slot is null)
                return;
            if (header.Status.IsError())
            {
                Fail(slot, ErrorPrefix(header.Status) + ErrorReply.Read(frame.Slice(ProtocolLimits.HeaderSize)));
                return;
            }
            var found = header.Status == StatusCode.Ok;
            switch (slot.Kind)
            {
                case ReplyKind.Get:
                    if (found)
                        Deliver(slot, frame, static (w, f) => RespWriter.WriteBulk(w, ValueOf(f)));
                    else
                        DeliverNull(slot);
                    break;
                case ReplyKind.Exists:
                    CountPart(slot, found);
                    break;
                case ReplyKind.MultiGet:
                    Deliver(slot, (frame, slot.Resp3), static (w, s) => WriteMultiGet(w, s.frame, s.Resp3));
                    break;
                case ReplyKind.ConditionalSet:
                    OnConditionalSet(slot, header, frame);
                    break;
                case ReplyKind.Keys or ReplyKind.Scan or ReplyKind.DbSize:
                    OnKeyChunk(slot, frame, header.HasMore);
                    break;
            }
        }
    }

    /// <summary>A write's outcome once its write concern is met.</summary>
    public void Status(Opcode opcode, ulong requestId, StatusCode status)
    {
        lock (_replyLock)
        {
            var slot = Find(requestId);
            if (slot is null)
                return;
            switch (slot.Kind)
            {
                case ReplyKind.Delete:
                    CountPart(slot, status == StatusCode.Ok);
                    break;
                default:
                    Deliver(slot, 0, static (w, _) => RespWriter.WriteOk(w));
                    break;
            }
        }
    }

    /// <summary>A request the cluster could not complete (no node, busy, node died).</summary>
    public void Error(Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        lock (_replyLock)
        {
            var slot = Find(requestId);
            if (slot is not null)
                Fail(slot, ErrorPrefix(status) + message);
        }
    }

    /// <summary>A node whose disk refuses writes answers as Redis does when it cannot persist: MISCONF.</summary>
    private static string ErrorPrefix(StatusCode status) => status == StatusCode.StorageUnavailable ? "MISCONF " : "ERR ";

    /// <summary>A router-composed body (digest): never asked for by RESP commands.</summary>
    public void Raw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body)
    {
        lock (_replyLock)
        {
            var slot = Find(requestId);
            if (slot is not null)
                Fail(slot, $"ERR unexpected {opcode} reply");
        }
    }

    private void Fail(ReplySlot slot, string message)
    {
        if (slot.Kind is ReplyKind.Delete or ReplyKind.Exists)
        {
            slot.Error ??= message;
            CountPart(slot, hit: false);
            return;
        }
        Deliver(slot, message, RenderError);
    }

    /// <summary>One key of DEL or EXISTS answered; the last one delivers the count (or the first error).</summary>
    private void CountPart(ReplySlot slot, bool hit)
    {
        if (hit)
            slot.Count++;
        if (--slot.PartsOutstanding > 0)
            return;
        if (slot.Error is not null)
            Deliver(slot, slot.Error, RenderError);
        else
            Deliver(slot, slot.Count, static (w, count) => RespWriter.WriteInteger(w, count));
    }

    private void DeliverNull(ReplySlot slot) => Deliver(slot, slot.Resp3, static (w, resp3) => RespWriter.WriteNull(w, resp3));

    /// <summary>SET NX/XX/GET: the nodes' outcome (Ok written, ConditionFailed not; the old value when asked for).</summary>
    private void OnConditionalSet(ReplySlot slot, in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        var written = header.Status == StatusCode.Ok;
        if (slot.ReturnOld)
        {
            using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
            VersionedValueReply.TryRead(body.Span, out _, out var old, out var present);
            slot.Saved = ReplySlot.Fresh(slot.Saved);
            if (present)
                RespWriter.WriteBulk(slot.Saved, old);
            else
                RespWriter.WriteNull(slot.Saved, slot.Resp3);
            Deliver(slot, slot.Saved.WrittenMemory, CopyBytes);
        }
        else if (slot.IntegerReply)
            Deliver(slot, written ? 1L : 0L, static (w, n) => RespWriter.WriteInteger(w, n));
        else if (written)
            Deliver(slot, 0, static (w, _) => RespWriter.WriteOk(w));
        else
            DeliverNull(slot);
    }

    /// <summary>The value of a Get reply (<see cref="ValueReply"/>), still in the node's buffer.</summary>
    private static ReadOnlySequence<byte> ValueOf(in ReadOnlySequence<byte> frame) =>
        ValueReply.TryRead(frame.Slice(ProtocolLimits.HeaderSize), out var value) ? value : default;

    /// <summary>A <see cref="MultiGetReply"/> as an array of bulk strings and nulls.</summary>
    private static void WriteMultiGet(IBufferWriter<byte> output, in ReadOnlySequence<byte> frame, bool resp3)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        MultiGetReply.TryRead(body.Span, out var reply);
        RespWriter.WriteArrayHeader(output, reply.Count); // never more than the body could hold
        for (var i = 0u; i < reply.Count; i++)
        {
            // A short body would be a node bug; nulls keep the RESP stream well formed even then.
            if (reply.TryReadNext(out var value, out var found) && found)
                RespWriter.WriteBulk(output, value);
            else
                RespWriter.WriteNull(output, resp3);
        }
    }
}

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
    /// <summary>Where replies that are not forwarded as they are get rendered (under the reply lock).</summary>
    private readonly ArrayBufferWriter<byte> _render = new(256);

    /// <summary>A node's reply with a body: reads (chunks of listings included), and writes whose outcome has a body.</summary>
    public void Forward(in ReadOnlySequence<byte> frame, ulong requestId)
    {
        var header = FrameHeader.Read(frame);
        _window.Observe(frame.Length);
        _core.ObserveReply(frame.Length);
        lock (_replyLock)
        {
            var slot = Find(requestId);
            if (slot is null)
                return;
            switch (slot.Kind)
            {
                case ReplyKind.Get when !header.Status.IsError():
                    if (header.Status == StatusCode.Ok)
                        Deliver(slot, frame, static (w, f) => RespWriter.WriteBulk(w, ValueOf(f)));
                    else
                        DeliverNull(slot);
                    return;
                case ReplyKind.MultiGet when !header.Status.IsError():
                    Deliver(slot, (frame, slot.Resp3), static (w, s) => WriteMultiGet(w, s.frame, s.Resp3));
                    return;
                case ReplyKind.Keys or ReplyKind.RandomKey when !header.Status.IsError():
                    OnKeyChunk(slot, frame, header.HasMore);
                    return;
            }
            using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
            Complete(slot, header.Status, body.Span);
        }
    }

    /// <summary>A write's outcome without a body once its write concern is met.</summary>
    public void Status(Opcode opcode, ulong requestId, StatusCode status)
    {
        lock (_replyLock)
        {
            var slot = Find(requestId);
            if (slot is not null)
                Complete(slot, status, default);
        }
    }

    /// <summary>A request the cluster could not complete (no node, busy, node died).</summary>
    public void Error(Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        lock (_replyLock)
        {
            var slot = Find(requestId);
            if (slot is not null)
                Fail(slot, ReplyRenderer.ErrorText(status, System.Text.Encoding.UTF8.GetBytes(message)));
        }
    }

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

    /// <summary>Every reply that is not a Get, MultiGet or listing: rendered from the outcome by the slot's shape.</summary>
    private void Complete(ReplySlot slot, StatusCode status, ReadOnlySpan<byte> body)
    {
        switch (slot.Kind)
        {
            case ReplyKind.Exec:
                OnExecReply(slot, status, body);
                return;
            case ReplyKind.Watch:
                OnWatchReply(slot, status, body);
                return;
            case ReplyKind.Info when !status.IsError():
                OnInfoReply(slot, body);
                return;
            case ReplyKind.Lcs when !status.IsError():
                _render.ResetWrittenCount();
                MultiGetReply.TryRead(body, out var pair);
                pair.TryReadNext(out var a, out _);
                var first = a.ToArray();
                pair.TryReadNext(out var b, out _);
                LongestCommonSubsequence.Write(_render, first, b, slot.Variant, slot.First, slot.Last != 0, slot.Resp3);
                DeliverRendered(slot);
                return;
        }
        if (status.IsError())
        {
            Fail(slot, ReplyRenderer.ErrorText(status, body));
            return;
        }
        _render.ResetWrittenCount();
        int errors;
        if (slot.Batched && status == StatusCode.Ok && TransactionReply.TryRead(body, out var entries))
            errors = ReplyRenderer.RenderEntries(_render, slot, ref entries);
        else
            errors = ReplyRenderer.RenderOutcome(_render, slot, status, body) ? 0 : 1;
        for (; errors > 0; errors--)
            _server.ErrorReplied();
        DeliverRendered(slot);
    }

    private void DeliverRendered(ReplySlot slot) => Deliver(slot, _render.WrittenMemory, CopyBytes);

    private void Fail(ReplySlot slot, string message)
    {
        if (slot.Kind == ReplyKind.Watch)
        {
            OnWatchReply(slot, StatusCode.Unavailable, default);
            return;
        }
        _server.ErrorReplied();
        Deliver(slot, message, RenderError);
    }

    private void DeliverNull(ReplySlot slot) => Deliver(slot, slot.Resp3, static (w, resp3) => RespWriter.WriteNull(w, resp3));

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

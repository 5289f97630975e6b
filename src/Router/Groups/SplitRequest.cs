using System.Buffers;
using System.Buffers.Binary;
using KvnDb.Protocol;

namespace KvnDb.Router.Groups;

/// <summary>
/// A client request answered by several groups: each part (one group's share, or the whole request sent to
/// every group) is submitted with this as its reply target, numbered by its part index; once every part has
/// answered, the client gets one reply, put together in request order — a multi-get's values, a batch's
/// entries, summed key counts, one digest of every node, a listing streamed from every group in turn. The
/// first error of any part is the client's answer (writes of the other parts may have been applied: a split
/// request is not atomic across groups; transactions are refused instead, <see cref="StatusCode.CrossSlot"/>).
/// Replies arrive from node links under their pending request's lock; this type's lock is taken after it.
/// </summary>
internal sealed class SplitRequest(IReplyTarget client, in FrameHeader header, int parts, int[]? partOfItem) : IReplyTarget
{
    private readonly Lock _lock = new();
    private readonly ulong _requestId = header.RequestId;
    private readonly Opcode _opcode = header.Opcode;
    private readonly byte[]?[] _bodies = new byte[]?[parts];
    private readonly int _parts = parts;
    private int _remaining = parts;
    private bool _answered;

    /// <summary>
    /// A listing's ownership filter: the slot map when the listing started. A group's chunks keep only the keys of slots that
    /// group owns in it (a part is its group's index), so a migration's copies (in the target before the switch, in the
    /// source until its cleanup) are not listed twice.
    /// </summary>
    public SlotMap? Owners { get; init; }

    /// <summary>The group index of each part of a listing with <see cref="Owners"/> (the parts are the groups that own slots).</summary>
    public int[]? GroupOfPart { get; init; }

    /// <summary>Called once, when the client has its answer (the listing tracker's exit, <see cref="ListingTracker"/>).</summary>
    public Action? Answered { get; init; }

    /// <summary>The client's channel: the caller that delivers a part's reply flushes it.</summary>
    public OutputChannel Output => client.Output;

    public void Forward(in ReadOnlySequence<byte> frame, ulong requestId)
    {
        var header = FrameHeader.Read(frame);
        lock (_lock)
        {
            if (_answered)
                return;
            if (header.Status.IsError())
            {
                Fail(header.Status, ErrorReply.Read(frame.Slice(ProtocolLimits.HeaderSize)));
                return;
            }
            if (_opcode == Opcode.ListKeys)
            {
                ForwardChunk(frame, header, (int)requestId);
                return;
            }
            Done((int)requestId, frame.Slice(ProtocolLimits.HeaderSize).ToArray());
        }
    }

    public void Status(Opcode opcode, ulong requestId, StatusCode status)
    {
        lock (_lock)
        {
            if (_answered)
                return;
            if (status.IsError())
                Fail(status, status.ToString());
            else
                Done((int)requestId, []);
        }
    }

    public void Error(Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        lock (_lock)
        {
            if (!_answered)
                Fail(status, message);
        }
    }

    public void Raw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body)
    {
        lock (_lock)
        {
            if (!_answered)
                Done((int)requestId, body.ToArray());
        }
    }

    /// <summary>A listing's chunks go to the client as they come; each group's last one is marked as not the last.</summary>
    private void ForwardChunk(in ReadOnlySequence<byte> frame, in FrameHeader header, int part)
    {
        if (Owners is not null)
        {
            ForwardOwnedKeys(frame, header, part);
        }
        else if (header.HasMore)
        {
            client.Forward(frame, _requestId);
        }
        else
        {
            var copy = frame.ToArray();
            new FrameHeader(header.BodyLength, header.Opcode, header.Flags | FrameFlags.More, header.Status, header.RequestId).Write(copy);
            client.Forward(new ReadOnlySequence<byte>(copy), _requestId);
        }
        if (header.HasMore)
            return;
        if (--_remaining == 0)
        {
            MarkAnswered();
            var end = new ArrayBufferWriter<byte>();
            KeyListChunk.Write(end, _requestId, more: false, []);
            client.Forward(new ReadOnlySequence<byte>(end.WrittenMemory), _requestId);
        }
    }

    /// <summary>The chunk with only the keys its group owns (<see cref="Owners"/>), marked as not the last.</summary>
    private void ForwardOwnedKeys(in ReadOnlySequence<byte> frame, in FrameHeader header, int part)
    {
        var kept = new List<byte[]>();
        using (var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize)))
        {
            if (!KeyListChunk.TryRead(body.Span, out var chunk))
                return;
            while (chunk.TryReadNext(out var key))
                if (Owners!.GroupOf(KeySlot.Of(key)) == (GroupOfPart is { } groups ? groups[part] : part))
                    kept.Add(key.ToArray());
        }
        if (kept.Count == 0)
            return;
        var filtered = new ArrayBufferWriter<byte>();
        KeyListChunk.Write(filtered, header.RequestId, more: true, [.. kept]);
        client.Forward(new ReadOnlySequence<byte>(filtered.WrittenMemory), _requestId);
    }

    private void MarkAnswered()
    {
        _answered = true;
        Answered?.Invoke();
    }

    private void Fail(StatusCode status, string message)
    {
        MarkAnswered();
        client.Error(_opcode, _requestId, status, _parts > 1 ? $"{message} (one group's part of a request split across {_parts} groups)" : message);
    }

    private void Done(int part, byte[] body)
    {
        if ((uint)part >= (uint)_bodies.Length || _bodies[part] is not null)
            return; // not a part of this request, or a second answer to one
        _bodies[part] = body;
        if (--_remaining > 0)
            return;
        MarkAnswered();
        switch (_opcode)
        {
            case Opcode.MultiGet:
                Reply(MultiGetBody());
                break;
            case Opcode.Batch:
                Reply(BatchBody());
                break;
            case Opcode.KeyCount:
                Reply(SummedCounts());
                break;
            case Opcode.Digest:
                client.Raw(Opcode.Digest, _requestId, MergedDigest());
                break;
            default:
                client.Status(_opcode, _requestId, StatusCode.Ok); // MultiSet, FlushKeys: every part applied
                break;
        }
    }

    private void Reply(byte[] body)
    {
        var frame = new byte[ProtocolLimits.HeaderSize + body.Length];
        new FrameHeader(body.Length, _opcode, FrameFlags.Response, StatusCode.Ok, _requestId).Write(frame);
        body.CopyTo(frame.AsSpan(ProtocolLimits.HeaderSize));
        client.Forward(new ReadOnlySequence<byte>(frame), _requestId);
    }

    /// <summary>Each key's entry from its group's reply, in request order.</summary>
    private byte[] MultiGetBody()
    {
        var entries = Entries(part =>
        {
            var list = new List<(int Offset, int Length)>();
            var body = _bodies[part]!;
            if (!MultiGetReply.TryRead(body, out var reply))
                return list;
            var offset = 4;
            while (reply.TryReadNext(out var value, out var found))
            {
                var size = found ? FrameWriter.FieldSize(value.Length) : FrameWriter.LengthPrefixSize;
                list.Add((offset, size));
                offset += size;
            }
            return list;
        });
        return Assemble(entries);
    }

    /// <summary>Each operation's entry (status, length, body) from its group's reply, in request order.</summary>
    private byte[] BatchBody()
    {
        var entries = Entries(part =>
        {
            var list = new List<(int Offset, int Length)>();
            var body = _bodies[part]!;
            if (!TransactionReply.TryRead(body, out var reply))
                return list;
            var offset = 4;
            while (reply.TryReadNext(out _, out var entry))
            {
                var size = TransactionReply.EntrySize(entry.Length);
                list.Add((offset, size));
                offset += size;
            }
            return list;
        });
        return Assemble(entries);
    }

    private List<(int Offset, int Length)>[] Entries(Func<int, List<(int Offset, int Length)>> read)
    {
        var entries = new List<(int Offset, int Length)>[_parts];
        for (var part = 0; part < _parts; part++)
            entries[part] = read(part);
        return entries;
    }

    /// <summary><c>[u32 count]</c> then, for each item in request order, the next entry of its part's reply.</summary>
    private byte[] Assemble(List<(int Offset, int Length)>[] entries)
    {
        var order = partOfItem!;
        var next = new int[_parts];
        var length = 4;
        foreach (var part in order)
            length += next[part] < entries[part].Count ? entries[part][next[part]++].Length : 0;
        var body = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)order.Length);
        Array.Clear(next);
        var at = 4;
        foreach (var part in order)
        {
            if (next[part] >= entries[part].Count)
                continue; // a group answered fewer entries than it was asked (it broke the reply's shape)
            var (offset, size) = entries[part][next[part]++];
            _bodies[part].AsSpan(offset, size).CopyTo(body.AsSpan(at));
            at += size;
        }
        return body;
    }

    /// <summary>Every group's count added up (one count, or sixteen: one per database).</summary>
    private byte[] SummedCounts()
    {
        var length = _bodies.Max(b => b!.Length);
        var sum = new byte[length];
        foreach (var body in _bodies)
        {
            for (var at = 0; at + 8 <= body!.Length && at + 8 <= length; at += 8)
                BinaryPrimitives.WriteInt64LittleEndian(sum.AsSpan(at),
                    BinaryPrimitives.ReadInt64LittleEndian(sum.AsSpan(at)) + BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(at)));
        }
        return sum;
    }

    /// <summary>Every group's nodes in one digest, by node number.</summary>
    private byte[] MergedDigest()
    {
        var entries = new List<NodeDigestEntry>();
        foreach (var body in _bodies)
            if (ClusterDigest.TryRead(body, out var group))
                entries.AddRange(group);
        entries.Sort((a, b) => a.NodeId.CompareTo(b.NodeId));
        var merged = new byte[ClusterDigest.BodySize(entries.Count)];
        ClusterDigest.Write(merged, entries);
        return merged;
    }
}

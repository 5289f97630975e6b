using System.Buffers;
using System.Buffers.Text;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// The key family: DEL (and UNLINK), EXISTS, KEYS and SCAN. KEYS and SCAN (and DBSIZE, in
/// <c>RespSession.Server.cs</c>) are built on the streamed key listing of one serving node.
/// SCAN walks keys in byte order: a page is the COUNT smallest matching keys after the last key of
/// the previous page, so every key present for the whole scan is returned exactly once, whatever is
/// written meanwhile and whichever node answers. The cursor is a number (clients expect one) naming
/// the last key returned, kept router-wide by <see cref="ScanCursors"/>.
/// </summary>
internal sealed partial class RespSession
{
    private const int DefaultScanCount = 10;
    private const int MaxScanCount = 1 << 20;

    private void Delete(in RespRequest request) => Counted(request, ReplyKind.Delete, Opcode.Delete, write: true);

    private void Exists(in RespRequest request) => Counted(request, ReplyKind.Exists, Opcode.Exists, write: false);

    /// <summary>DEL and EXISTS: one native request per key (there is no multi-delete), counted as the answers come in.</summary>
    private void Counted(in RespRequest request, ReplyKind kind, Opcode opcode, bool write)
    {
        if (!KeysFit(request, 1, 1))
            return;
        ulong number;
        lock (_replyLock)
        {
            var slot = BeginSlot(kind);
            slot.PartsOutstanding = request.Count - 1;
            number = slot.Number;
        }
        for (var i = 1; i < request.Count; i++)
        {
            var header = NativeFrames.Key(_scratch, opcode, number, request[i]);
            var frame = new ReadOnlySequence<byte>(_scratch.WrittenMemory);
            if (write)
                _core.SubmitWrite(this, header, frame, _flush);
            else
                _core.SubmitRead(this, header, frame, _flush);
        }
    }

    private void Keys(in RespRequest request)
    {
        if (request[1].Length > _core.Options.MaxKeySize)
        {
            ReplyError($"ERR pattern is above the key limit of {_core.Options.MaxKeySize} bytes");
            return;
        }
        ulong number;
        lock (_replyLock)
        {
            var slot = BeginSlot(ReplyKind.Keys);
            slot.Pattern = request[1].ToArray();
            slot.Saved = ReplySlot.Fresh(slot.Saved);
            number = slot.Number;
        }
        SubmitListing(number, GlobPattern.LiteralPrefix(request[1]));
    }

    /// <summary>SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].</summary>
    private void Scan(in RespRequest request)
    {
        if (!Utf8Parser.TryParse(request[1], out ulong cursor, out var used) || used != request[1].Length)
        {
            ReplyError("ERR invalid cursor");
            return;
        }
        ReadOnlySpan<byte> pattern = "*"u8;
        var count = DefaultScanCount;
        var anyType = true;
        for (var i = 2; i < request.Count; i += 2)
        {
            if (i + 1 >= request.Count)
            {
                ReplyError("ERR syntax error");
                return;
            }
            if (RespCommandTable.Is(request[i], "MATCH"u8))
            {
                pattern = request[i + 1];
            }
            else if (RespCommandTable.Is(request[i], "COUNT"u8))
            {
                if (!Utf8Parser.TryParse(request[i + 1], out count, out used) || used != request[i + 1].Length)
                {
                    ReplyError("ERR value is not an integer or out of range");
                    return;
                }
                if (count < 1)
                {
                    ReplyError("ERR syntax error");
                    return;
                }
            }
            else if (RespCommandTable.Is(request[i], "TYPE"u8))
            {
                anyType = RespCommandTable.Is(request[i + 1], "STRING"u8); // every value is a string
            }
            else
            {
                ReplyError("ERR syntax error");
                return;
            }
        }
        if (pattern.Length > _core.Options.MaxKeySize)
        {
            ReplyError($"ERR pattern is above the key limit of {_core.Options.MaxKeySize} bytes");
            return;
        }

        byte[]? after = null;
        if (cursor != 0 && (after = _server.Cursors.Find(cursor)) is null)
        {
            ReplyError($"ERR invalid cursor (the router keeps the last {ScanCursors.Capacity} cursors)");
            return;
        }
        if (!anyType)
        {
            RespWriter.WriteArrayHeader(_local, 2);
            RespWriter.WriteBulk(_local, "0"u8);
            RespWriter.WriteArrayHeader(_local, 0);
            SendLocal();
            return;
        }
        ulong number;
        lock (_replyLock)
        {
            var slot = BeginSlot(ReplyKind.Scan);
            slot.Pattern = pattern.SequenceEqual("*"u8) ? null : pattern.ToArray();
            slot.After = after;
            slot.Limit = Math.Min(count, MaxScanCount);
            slot.Best ??= new SortedSet<byte[]>(KeyOrder.Instance);
            number = slot.Number;
        }
        SubmitListing(number, GlobPattern.LiteralPrefix(pattern));
    }

    private void SubmitListing(ulong number, ReadOnlySpan<byte> prefix)
    {
        var header = NativeFrames.Key(_scratch, Opcode.ListKeys, number, prefix);
        _core.SubmitRead(this, header, new ReadOnlySequence<byte>(_scratch.WrittenMemory), _flush);
    }

    /// <summary>One chunk of a listing (under the reply lock); the last chunk delivers the reply.</summary>
    private void OnKeyChunk(ReplySlot slot, in ReadOnlySequence<byte> frame, bool hasMore)
    {
        using (var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize)))
        {
            KeyListChunk.TryRead(body.Span, out var chunk);
            while (chunk.TryReadNext(out var key))
            {
                switch (slot.Kind)
                {
                    case ReplyKind.DbSize:
                        slot.Count++;
                        break;
                    case ReplyKind.Keys:
                        if (GlobPattern.IsMatch(slot.Pattern, key))
                        {
                            RespWriter.WriteBulk(slot.Saved!, key);
                            slot.Count++;
                        }
                        break;
                    default:
                        ConsiderForScan(slot, key);
                        break;
                }
            }
        }
        if (hasMore)
            return;
        switch (slot.Kind)
        {
            case ReplyKind.DbSize:
                Deliver(slot, slot.Count, static (w, count) => RespWriter.WriteInteger(w, count));
                break;
            case ReplyKind.Keys:
                Deliver(slot, slot, static (w, s) =>
                {
                    RespWriter.WriteArrayHeader(w, s.Count);
                    w.Write(s.Saved!.WrittenSpan);
                });
                break;
            default:
                var next = slot.More ? _server.Cursors.Add(slot.Best!.Max!) : 0;
                Deliver(slot, (slot, next), static (w, s) =>
                {
                    RespWriter.WriteArrayHeader(w, 2);
                    Span<byte> digits = stackalloc byte[20];
                    s.next.TryFormat(digits, out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
                    RespWriter.WriteBulk(w, digits[..written]);
                    RespWriter.WriteArrayHeader(w, s.slot.Best!.Count);
                    foreach (var key in s.slot.Best)
                        RespWriter.WriteBulk(w, key);
                });
                break;
        }
    }

    /// <summary>Keeps the <see cref="ReplySlot.Limit"/> smallest matching keys after the cursor's key.</summary>
    private static void ConsiderForScan(ReplySlot slot, ReadOnlySpan<byte> key)
    {
        if (slot.After is not null && key.SequenceCompareTo(slot.After) <= 0)
            return;
        if (slot.Pattern is not null && !GlobPattern.IsMatch(slot.Pattern, key))
            return;
        var best = slot.Best!;
        if (best.Count < slot.Limit)
        {
            best.Add(key.ToArray());
            return;
        }
        slot.More = true;
        var largest = best.Max!;
        if (key.SequenceCompareTo(largest) >= 0)
            return;
        best.Remove(largest);
        best.Add(key.ToArray());
    }
}

using System.Buffers;
using System.Buffers.Text;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// The key family: DEL (and UNLINK), EXISTS (and TOUCH), RENAME, RENAMENX, COPY, MOVE, FLUSHDB, FLUSHALL,
/// DBSIZE, SELECT, OBJECT, KEYS and RANDOMKEY (built on the streamed key listing of one serving node, with the
/// selected database's prefix), and SCAN: one <see cref="Opcode.ScanKeys"/> page from one serving node, O(COUNT).
/// The cursor is the node's scan position (docs/resp.md, "SCAN cursors"), the same on every node, so any
/// connection and any serving node may continue a scan, and the router keeps nothing.
/// </summary>
internal sealed partial class RespSession
{
    private const int DefaultScanCount = 10;
    private const int MaxScanCount = 1 << 20;

    /// <summary>DEL and UNLINK (one Delete, or one atomic Batch of Deletes); EXISTS and TOUCH (Exists reads).</summary>
    private void Counted(in RespRequest request, ReplyKind kind, Opcode opcode)
    {
        for (var i = 1; i < request.Count; i++)
        {
            if (!KeyFits(request[i]))
                return;
        }
        BeginCommand(kind);
        for (var i = 1; i < request.Count; i++)
            AddKeyOp(opcode, DbKey(request[i]));
        EndCommand();
    }

    /// <summary>RENAME and RENAMENX: one CopyKey that deletes the source.</summary>
    private void Rename(in RespRequest request, bool onlyIfAbsent)
    {
        if (!KeyFits(request[1]) || !KeyFits(request[2]))
            return;
        var shape = BeginCommand(onlyIfAbsent ? ReplyKind.Flag : ReplyKind.Rename);
        shape.Variant = onlyIfAbsent ? 1 : 0;
        WriteCopy(CopyKeyOptions.DeleteSource | (onlyIfAbsent ? CopyKeyOptions.None : CopyKeyOptions.Replace), DbKey(request[1]), DbKey(request[2], second: true));
        EndCommand();
    }

    /// <summary>COPY source destination [DB n] [REPLACE].</summary>
    private void Copy(in RespRequest request)
    {
        var database = _database;
        var replace = false;
        for (var i = 3; i < request.Count; i++)
        {
            if (RespCommandTable.Is(request[i], "REPLACE"u8))
                replace = true;
            else if (RespCommandTable.Is(request[i], "DB"u8) && i + 1 < request.Count)
            {
                if (!TryParseInteger(request[++i], out var db))
                {
                    ReplyError("ERR value is not an integer or out of range");
                    return;
                }
                if (db is < 0 or >= DatabaseKeys.Count)
                {
                    ReplyError("ERR DB index is out of range");
                    return;
                }
                database = (int)db;
            }
            else
            {
                ReplyError("ERR syntax error");
                return;
            }
        }
        if (database == _database && request[1].SequenceEqual(request[2]))
        {
            ReplyError("ERR source and destination objects are the same");
            return;
        }
        if (!KeyFits(request[1]) || !KeyFits(request[2]))
            return;
        BeginCommand(ReplyKind.Flag);
        WriteCopy(replace ? CopyKeyOptions.Replace : CopyKeyOptions.None, DbKey(request[1]), DbKeyIn(database, request[2], second: true));
        EndCommand();
    }

    /// <summary>MOVE key db: a CopyKey into the other database that deletes the source, only if the destination is absent.</summary>
    private void Move(in RespRequest request)
    {
        if (!TryParseInteger(request[2], out var db))
        {
            ReplyError("ERR value is not an integer or out of range");
            return;
        }
        if (db is < 0 or >= DatabaseKeys.Count)
        {
            ReplyError("ERR DB index is out of range");
            return;
        }
        if (db == _database)
        {
            ReplyError("ERR source and destination objects are the same");
            return;
        }
        if (!KeyFits(request[1]))
            return;
        BeginCommand(ReplyKind.Flag);
        WriteCopy(CopyKeyOptions.DeleteSource, DbKey(request[1]), DbKeyIn((int)db, request[1], second: true));
        EndCommand();
    }

    private void WriteCopy(CopyKeyOptions options, ReadOnlySpan<byte> source, ReadOnlySpan<byte> target) =>
        CopyKeyRequest.WriteBody(AddOp(Opcode.CopyKey, CopyKeyRequest.BodyLength(source.Length, target.Length)), options, source, target);

    /// <summary>FLUSHDB and FLUSHALL [ASYNC|SYNC]: one sequenced FlushKeys (the nodes delete in order with every other write).</summary>
    private void Flush(in RespRequest request, bool all)
    {
        if (request.Count > 2 || (request.Count == 2 && !RespCommandTable.Is(request[1], "ASYNC"u8) && !RespCommandTable.Is(request[1], "SYNC"u8)))
        {
            ReplyError("ERR syntax error");
            return;
        }
        BeginCommand(ReplyKind.Write);
        KeyCountRequest.WriteBody(AddOp(Opcode.FlushKeys, KeyCountRequest.Size), all ? DatabaseKeys.All : (byte)_database);
        EndCommand();
    }

    /// <summary>DBSIZE: one node's O(1) count of the selected database.</summary>
    private void DbSize()
    {
        BeginCommand(ReplyKind.KeyCount);
        KeyCountRequest.WriteBody(AddOp(Opcode.KeyCount, KeyCountRequest.Size), (byte)_database);
        EndCommand();
    }

    private void Select(in RespRequest request)
    {
        if (!TryParseInteger(request[1], out var db))
        {
            ReplyError("ERR value is not an integer or out of range");
            return;
        }
        if (db is < 0 or >= DatabaseKeys.Count)
        {
            ReplyError("ERR DB index is out of range");
            return;
        }
        _database = (int)db;
        ReplyOk();
    }

    /// <summary>OBJECT ENCODING key (strings: int, embstr or raw, as Redis would store them); FREQ and IDLETIME are not kept.</summary>
    private void Object(in RespRequest request)
    {
        var sub = request[1];
        if (RespCommandTable.Is(sub, "ENCODING"u8) && request.Count == 3)
            ReadAbout(request[2], ReplyKind.ObjectEncoding);
        else if (RespCommandTable.Is(sub, "HELP"u8) && request.Count == 2)
        {
            RespWriter.WriteArrayHeader(_local, 2);
            RespWriter.WriteBulkString(_local, "OBJECT ENCODING <key>");
            RespWriter.WriteBulkString(_local, "    Return the kind of internal representation the value would have in Redis.");
            SendLocal();
        }
        else if ((RespCommandTable.Is(sub, "FREQ"u8) || RespCommandTable.Is(sub, "IDLETIME"u8) || RespCommandTable.Is(sub, "REFCOUNT"u8)) && request.Count == 3)
            ReplyError($"ERR OBJECT {Printable(sub).ToUpperInvariant()} is not kept by KvnDb");
        else
            ReplyError($"ERR unknown subcommand or wrong number of arguments for 'OBJECT|{Printable(sub)}'. Try OBJECT HELP.");
    }

    /// <summary>RANDOMKEY: a key of the selected database, chosen uniformly from one node's listing (O(keys), as KEYS).</summary>
    private void RandomKey()
    {
        ulong number;
        lock (_replyLock)
        {
            var slot = BeginSlot(ReplyKind.RandomKey);
            slot.Variant = _database;
            number = slot.Number;
        }
        SubmitListing(number, DatabasePrefix(_database));
    }

    private void Keys(in RespRequest request)
    {
        if (request[1].Length > MaxKeyLength)
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
            slot.Variant = _database;
            number = slot.Number;
        }
        SubmitListing(number, [.. DatabasePrefix(_database), .. GlobPattern.LiteralPrefix(request[1])]);
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
        if (pattern.Length > MaxKeyLength)
        {
            ReplyError($"ERR pattern is above the key limit of {_core.Options.MaxKeySize} bytes");
            return;
        }

        if (cursor >= ScanKeysRequest.PositionLimit)
        {
            // The bits above a position are kept for a shard group's number (docs/resp.md, "SCAN cursors").
            ReplyError("ERR invalid cursor");
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
        var matched = pattern.SequenceEqual("*"u8) ? default : pattern;
        BeginCommand(ReplyKind.Scan);
        ScanKeysRequest.WriteBody(AddOp(Opcode.ScanKeys, ScanKeysRequest.BodyLength(matched.Length)), (byte)_database, cursor,
            (uint)Math.Min(count, MaxScanCount), matched);
        EndCommand();
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
            while (chunk.TryReadNext(out var stored))
            {
                // Database 0 is the plain keyspace: namespaced keys of the other databases are not its keys.
                if (DatabaseKeys.DatabaseOf(stored) != slot.Variant)
                    continue;
                var key = slot.Variant == 0 ? stored : stored[DatabaseKeys.PrefixSize..];
                switch (slot.Kind)
                {
                    case ReplyKind.RandomKey:
                        // Reservoir sampling: every key of the listing is equally likely to be the one kept.
                        if (Random.Shared.NextInt64(++slot.Count) == 0)
                        {
                            slot.Saved = ReplySlot.Fresh(slot.Saved);
                            slot.Saved.Write(key);
                        }
                        break;
                    default:
                        if (GlobPattern.IsMatch(slot.Pattern, key))
                        {
                            RespWriter.WriteBulk(slot.Saved!, key);
                            slot.Count++;
                        }
                        break;
                }
            }
        }
        if (hasMore)
            return;
        switch (slot.Kind)
        {
            case ReplyKind.RandomKey:
                Deliver(slot, slot, static (w, s) =>
                {
                    if (s.Count == 0)
                        RespWriter.WriteNull(w, s.Resp3);
                    else
                        RespWriter.WriteBulk(w, s.Saved!.WrittenSpan);
                });
                break;
            default:
                Deliver(slot, slot, static (w, s) =>
                {
                    RespWriter.WriteArrayHeader(w, s.Count);
                    w.Write(s.Saved!.WrittenSpan);
                });
                break;
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>The node's side of replication: joining (SyncBegin/End), donating and applying snapshots, digests.</summary>
internal sealed partial class RequestProcessor
{
    private Guid _joiningHistory;

    public bool IsSyncing => _sync.IsSyncing;

    private void SyncBegin(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (!SyncMessages.TryReadSyncBegin(body, out var mode, out var historyId, out var syncId))
        {
            ReplyMalformed(output, header);
            return;
        }
        if (mode == SyncMode.Full)
        {
            LogFullSyncBegins(syncId, engine.Count);
            // Until the snapshot is complete the data belongs to no history: a node that dies mid-sync
            // must never be mistaken for a current replica (it would be adopted after a router restart).
            identity.SetHistory(Guid.Empty);
            engine.Clear();
            _sync.Begin();
        }
        else
        {
            LogJoining(mode, engine.LastSequence);
            identity.SetHistory(historyId);
        }
        _joiningHistory = historyId;
    }

    private void SyncEnd(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (body.Length != 8)
        {
            ReplyMalformed(output, header);
            return;
        }
        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(body);
        engine.MarkApplied(sequence);
        identity.SetHistory(_joiningHistory);
        if (_sync.IsSyncing)
            LogFullSyncEnded(_sync.RecordsApplied, _sync.RecordsSkipped, engine.Count, sequence);
        _sync.End();
        _appliedWrites++; // make the batch durable before the router hears the node is current
        Reply(output, header, StatusCode.Ok);
    }

    private void SnapshotRead(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (body.Length != 12)
        {
            ReplyMalformed(output, header);
            return;
        }
        var syncId = BinaryPrimitives.ReadUInt64LittleEndian(body);
        var maxBytes = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body[8..]), (uint)(16 * 1024 * 1024));
        _snapshots.WriteNextChunk(output, header.RequestId, syncId, maxBytes);
    }

    private void SnapshotApply(in FrameHeader header, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        var reader = new BodyReader(body);
        if (!reader.TryReadByte(out _) || !reader.TryReadUInt64(out _) || !reader.TryReadUInt32(out var count))
        {
            ReplyMalformed(output, header);
            return;
        }
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadField(out var key) || !reader.TryReadField(out var value) || !reader.TryReadUInt64(out var sequence))
            {
                ReplyMalformed(output, header);
                return;
            }
            _sync.ApplySnapshotRecord(engine, key, value, sequence);
        }
        _appliedWrites++;
        Reply(output, header, StatusCode.Ok);
    }

    /// <summary>
    /// Key count, last sequence and an order-independent content hash. The router queues digest
    /// requests like writes, so every node computes it at the same point of the write stream.
    /// </summary>
    private void Digest(in FrameHeader header, IBufferWriter<byte> output)
    {
        ulong keys = 0;
        ulong hash = 0;
        foreach (var record in engine.Scan())
        {
            keys++;
            hash += XxHash3.HashToUInt64(record.Value.Span, unchecked((long)XxHash3.HashToUInt64(record.Key)));
        }
        var span = output.GetSpan(ProtocolLimits.HeaderSize + NodeDigest.Size);
        new FrameHeader(NodeDigest.Size, Opcode.Digest, FrameFlags.Response, StatusCode.Ok, header.RequestId).Write(span);
        new NodeDigest(keys, engine.LastSequence, hash).Write(span[ProtocolLimits.HeaderSize..]);
        output.Advance(ProtocolLimits.HeaderSize + NodeDigest.Size);
    }

    [LoggerMessage(40, LogLevel.Information, "Full sync {SyncId} begins: wiping {Keys} keys, then applying the donor's snapshot while live writes flow")]
    private partial void LogFullSyncBegins(ulong syncId, long keys);

    [LoggerMessage(41, LogLevel.Information, "Joining ({Mode}) from last sequence {LastSequence}")]
    private partial void LogJoining(SyncMode mode, ulong lastSequence);

    [LoggerMessage(42, LogLevel.Information, "Full sync done: {Applied} records applied, {Skipped} skipped as older; {Keys} keys, current at sequence {Sequence}")]
    private partial void LogFullSyncEnded(long applied, long skipped, long keys, ulong sequence);
}

using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// Bodies of the node-link sync messages (router and nodes only):
/// SyncBegin <c>[u8 mode][16 history id][u64 sync id]</c>, SyncEnd <c>[u64 sequence]</c>,
/// SnapshotRead <c>[u64 sync id][u32 max bytes]</c>, and snapshot chunks
/// <c>[u8 done][u64 donor key count][u32 count]([field key][field value][u64 sequence])...</c> (SnapshotRead reply = SnapshotApply body).
/// </summary>
public static class SyncMessages
{
    public const int SyncBeginSize = 1 + 16 + 8;
    public const int ChunkHeaderSize = 1 + 8 + 4;

    /// <summary>Marks request ids of sync traffic on node links, apart from the pending-table ids.</summary>
    public const ulong SyncIdBit = 1UL << 63;

    public static void WriteSyncBegin(IBufferWriter<byte> output, SyncMode mode, Guid historyId, ulong syncId)
    {
        var span = output.GetSpan(ProtocolLimits.HeaderSize + SyncBeginSize);
        new FrameHeader(SyncBeginSize, Opcode.SyncBegin, FrameFlags.NoReply, StatusCode.Ok, SyncIdBit | syncId).Write(span);
        span[16] = (byte)mode;
        historyId.TryWriteBytes(span[17..]);
        BinaryPrimitives.WriteUInt64LittleEndian(span[33..], syncId);
        output.Advance(ProtocolLimits.HeaderSize + SyncBeginSize);
    }

    public static bool TryReadSyncBegin(ReadOnlySpan<byte> body, out SyncMode mode, out Guid historyId, out ulong syncId)
    {
        mode = default;
        historyId = default;
        syncId = 0;
        if (body.Length != SyncBeginSize || body[0] > (byte)SyncMode.Full)
            return false;
        mode = (SyncMode)body[0];
        historyId = new Guid(body.Slice(1, 16));
        syncId = BinaryPrimitives.ReadUInt64LittleEndian(body[17..]);
        return true;
    }

    public static void WriteUInt64Frame(IBufferWriter<byte> output, Opcode opcode, ulong requestId, ulong value)
    {
        var span = output.GetSpan(ProtocolLimits.HeaderSize + 8);
        new FrameHeader(8, opcode, FrameFlags.None, StatusCode.Ok, requestId).Write(span);
        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], value);
        output.Advance(ProtocolLimits.HeaderSize + 8);
    }

    public static void WriteSnapshotRead(IBufferWriter<byte> output, ulong syncId, int maxBytes)
    {
        var span = output.GetSpan(ProtocolLimits.HeaderSize + 12);
        new FrameHeader(12, Opcode.SnapshotRead, FrameFlags.None, StatusCode.Ok, SyncIdBit | syncId).Write(span);
        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], syncId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], (uint)maxBytes);
        output.Advance(ProtocolLimits.HeaderSize + 12);
    }

    /// <summary>Size of one snapshot record in a chunk.</summary>
    public static int RecordSize(int keyLength, int valueLength) =>
        FrameWriter.FieldSize(keyLength) + FrameWriter.FieldSize(valueLength) + 8;
}

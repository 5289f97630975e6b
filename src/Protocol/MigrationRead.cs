using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// Router to a donor node of a migration's source group: the next chunk of a snapshot (its id), about
/// a budget of record bytes, of the keys whose slot is in the set:
/// <c>[u64 snapshot id][u32 max bytes][slot set, <see cref="SlotSet.Size"/> bytes]</c>. The set of the first read of a
/// snapshot decides it; the reply is a snapshot chunk (<see cref="SnapshotChunkHeader"/>) under this opcode.
/// </summary>
public static class MigrationRead
{
    public const int Size = 8 + 4 + SlotSet.Size;

    public static void Write(IBufferWriter<byte> output, ulong requestId, ulong snapshotId, int maxBytes, ReadOnlySpan<byte> slots)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(Size, Opcode.MigrationRead, FrameFlags.None, StatusCode.Ok, requestId));
        frame.UInt64(snapshotId);
        frame.UInt32((uint)Math.Max(0, maxBytes));
        frame.Bytes(slots[..SlotSet.Size]);
        frame.Complete();
    }

    /// <summary>A budget above <see cref="int.MaxValue"/> reads as <see cref="int.MaxValue"/>; <paramref name="slots"/> points into the body.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ulong snapshotId, out int maxBytes, out ReadOnlySpan<byte> slots)
    {
        snapshotId = 0;
        maxBytes = 0;
        slots = default;
        if (body.Length != Size)
            return false;
        snapshotId = BinaryPrimitives.ReadUInt64LittleEndian(body);
        maxBytes = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body[8..]), int.MaxValue);
        slots = body[12..];
        return true;
    }
}

using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// Router to node (NoReply): how the node joins.
/// <c>[u8 mode][16 history id][u64 sync id][u64 trusted through][u64 live after]</c>.
/// <see cref="LiveAfter"/>: every live write on this link has a sequence above it.
/// <see cref="TrustedThrough"/> (full sync): the joiner's records with a version up to it are on the
/// current history and meet snapshot records newer-wins; records in (TrustedThrough, LiveAfter] came
/// from a divergent history and the donor's record replaces them whatever its sequence.
/// </summary>
public readonly record struct SyncBegin(SyncMode Mode, Guid HistoryId, ulong SyncId, ulong TrustedThrough, ulong LiveAfter)
{
    public const int Size = 1 + 16 + 8 + 8 + 8;

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(Size, Opcode.SyncBegin, FrameFlags.NoReply, StatusCode.Ok, requestId));
        frame.Byte((byte)Mode);
        frame.Guid(HistoryId);
        frame.UInt64(SyncId);
        frame.UInt64(TrustedThrough);
        frame.UInt64(LiveAfter);
        frame.Complete();
    }

    /// <summary>False unless the body has exactly this size and a known mode.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out SyncBegin message)
    {
        message = default;
        if (body.Length != Size || body[0] > (byte)SyncMode.Full)
            return false;
        message = new SyncBegin(
            (SyncMode)body[0],
            new Guid(body.Slice(1, 16)),
            BinaryPrimitives.ReadUInt64LittleEndian(body[17..]),
            BinaryPrimitives.ReadUInt64LittleEndian(body[25..]),
            BinaryPrimitives.ReadUInt64LittleEndian(body[33..]));
        return true;
    }
}

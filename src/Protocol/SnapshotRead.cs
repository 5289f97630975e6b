using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>Router to donor: the next chunk of snapshot <see cref="SyncId"/>, about <see cref="MaxBytes"/> of records. <c>[u64 sync id][u32 max bytes]</c>.</summary>
public readonly record struct SnapshotRead(ulong SyncId, int MaxBytes)
{
    public const int Size = 8 + 4;

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(Size, Opcode.SnapshotRead, FrameFlags.None, StatusCode.Ok, requestId));
        frame.UInt64(SyncId);
        frame.UInt32((uint)Math.Max(0, MaxBytes));
        frame.Complete();
    }

    /// <summary>A budget above <see cref="int.MaxValue"/> reads as <see cref="int.MaxValue"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out SnapshotRead message)
    {
        message = default;
        if (body.Length != Size)
            return false;
        var maxBytes = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
        message = new SnapshotRead(BinaryPrimitives.ReadUInt64LittleEndian(body), (int)Math.Min(maxBytes, int.MaxValue));
        return true;
    }
}

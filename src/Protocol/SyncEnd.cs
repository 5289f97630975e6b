using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>Router to node: the node now reflects every write up to <see cref="Sequence"/> and may serve. <c>[u64 sequence]</c>; replied Ok.</summary>
public readonly record struct SyncEnd(ulong Sequence)
{
    public const int Size = 8;

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(Size, Opcode.SyncEnd, FrameFlags.None, StatusCode.Ok, requestId));
        frame.UInt64(Sequence);
        frame.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out SyncEnd message)
    {
        message = default;
        if (body.Length != Size)
            return false;
        message = new SyncEnd(BinaryPrimitives.ReadUInt64LittleEndian(body));
        return true;
    }
}

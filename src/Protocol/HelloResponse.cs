using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>Body of a successful hello response: <c>[u16 version][u64 connection id]</c>.</summary>
public readonly record struct HelloResponse(ushort Version, ulong ConnectionId)
{
    public const int BodySize = 2 + 8;

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var span = output.GetSpan(ProtocolLimits.HeaderSize + BodySize);
        new FrameHeader(BodySize, Opcode.Hello, FrameFlags.Response, StatusCode.Ok, requestId).Write(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], Version);
        BinaryPrimitives.WriteUInt64LittleEndian(span[18..], ConnectionId);
        output.Advance(ProtocolLimits.HeaderSize + BodySize);
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out HelloResponse response)
    {
        var reader = new BodyReader(body);
        response = default;
        if (!reader.TryReadUInt16(out var version) || !reader.TryReadUInt64(out var id))
            return false;
        response = new HelloResponse(version, id);
        return true;
    }
}

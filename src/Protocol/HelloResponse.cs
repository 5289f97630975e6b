using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>Body of a successful hello response: <c>[u16 version][u64 connection id]</c>.</summary>
public readonly record struct HelloResponse(ushort Version, ulong ConnectionId)
{
    public const int BodySize = 2 + 8;

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(BodySize, Opcode.Hello, FrameFlags.Response, StatusCode.Ok, requestId));
        frame.UInt16(Version);
        frame.UInt64(ConnectionId);
        frame.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out HelloResponse response)
    {
        var reader = new BodyReader(body);
        response = default;
        if (!reader.TryReadUInt16(out var version) || !reader.TryReadUInt64(out var id) || !reader.IsAtEnd)
            return false;
        response = new HelloResponse(version, id);
        return true;
    }
}

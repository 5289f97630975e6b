using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// Body of a successful hello response: <c>[u16 version][u64 connection id][u32 max frame][u32 max key]</c>.
/// The limits are the router's: a node adopts them for its link, so it accepts every frame and key the
/// router forwards (DESIGN.md section 5).
/// </summary>
public readonly record struct HelloResponse(ushort Version, ulong ConnectionId, int MaxFrameSize, int MaxKeySize)
{
    public const int BodySize = 2 + 8 + 4 + 4;

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(BodySize, Opcode.Hello, FrameFlags.Response, StatusCode.Ok, requestId));
        frame.UInt16(Version);
        frame.UInt64(ConnectionId);
        frame.UInt32((uint)MaxFrameSize);
        frame.UInt32((uint)MaxKeySize);
        frame.Complete();
    }

    /// <summary>False unless the body has exactly this shape and both limits are positive and at most <see cref="int.MaxValue"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out HelloResponse response)
    {
        var reader = new BodyReader(body);
        response = default;
        if (!reader.TryReadUInt16(out var version) || !reader.TryReadUInt64(out var id)
            || !reader.TryReadUInt32(out var maxFrame) || !reader.TryReadUInt32(out var maxKey) || !reader.IsAtEnd)
            return false;
        if (maxFrame is 0 or > int.MaxValue || maxKey is 0 or > int.MaxValue)
            return false;
        response = new HelloResponse(version, id, (int)maxFrame, (int)maxKey);
        return true;
    }
}

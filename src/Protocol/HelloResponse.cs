using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// Body of a successful hello response: <c>[u16 version][u64 connection id][u32 max frame][u32 max key]</c>, then, for a
/// client that asked for them, the router's flow limits (<see cref="HelloLimits"/>). The limits are the router's: a node
/// adopts them for its link, so it accepts every frame and key the router forwards (DESIGN.md section 5); a client
/// adopts them so it never sends what the router refuses and reads every reply the router may send. A reply to a node
/// carries instead the router's identity (<see cref="RouterIdentity"/>: its group term, for fencing).
/// </summary>
public readonly record struct HelloResponse(ushort Version, ulong ConnectionId, int MaxFrameSize, int MaxKeySize, HelloLimits? Limits = null,
    RouterIdentity? Router = null)
{
    /// <summary>The part every v3 peer reads.</summary>
    public const int BodySize = 2 + 8 + 4 + 4;

    public int BodyLength => BodySize + (Limits is not null ? HelloLimits.Size : Router is { } router ? router.Size : 0);

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(BodyLength, Opcode.Hello, FrameFlags.Response, StatusCode.Ok, requestId));
        frame.UInt16(Version);
        frame.UInt64(ConnectionId);
        frame.UInt32((uint)MaxFrameSize);
        frame.UInt32((uint)MaxKeySize);
        if (Limits is { } limits)
            limits.Write(ref frame);
        else if (Router is { } router)
            router.Write(ref frame);
        frame.Complete();
    }

    /// <summary>
    /// False unless the body starts with this shape, both limits positive and at most <see cref="int.MaxValue"/>; the flow
    /// limits are read when present. Bytes after the known fields are ignored: later additions inside v3 go there.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out HelloResponse response)
    {
        var reader = new BodyReader(body);
        response = default;
        if (!TryReadCommon(ref reader, out var version, out var id, out var maxFrame, out var maxKey))
            return false;
        HelloLimits? limits = null;
        if (reader.Remaining >= HelloLimits.Size)
        {
            if (!HelloLimits.TryRead(ref reader, out var read))
                return false;
            limits = read;
        }
        response = new HelloResponse(version, id, maxFrame, maxKey, limits);
        return true;
    }

    /// <summary>
    /// The reply to a node's hello: the common part, then the router's identity when present (a router before groups
    /// sent none: term 0). False when the common part is malformed or the identity is cut short.
    /// </summary>
    public static bool TryReadNodeReply(ReadOnlySpan<byte> body, out HelloResponse response)
    {
        var reader = new BodyReader(body);
        response = default;
        if (!TryReadCommon(ref reader, out var version, out var id, out var maxFrame, out var maxKey))
            return false;
        RouterIdentity? router = null;
        if (!reader.IsAtEnd)
        {
            if (!RouterIdentity.TryRead(ref reader, out var read))
                return false;
            router = read;
        }
        response = new HelloResponse(version, id, maxFrame, maxKey, Router: router);
        return true;
    }

    /// <summary>What every hello reply starts with: version, connection id, and both limits positive and at most <see cref="int.MaxValue"/>.</summary>
    private static bool TryReadCommon(ref BodyReader reader, out ushort version, out ulong id, out int maxFrame, out int maxKey)
    {
        maxFrame = maxKey = 0;
        id = 0;
        if (!reader.TryReadUInt16(out version) || !reader.TryReadUInt64(out id)
            || !reader.TryReadUInt32(out var frame) || !reader.TryReadUInt32(out var key)
            || frame is 0 or > int.MaxValue || key is 0 or > int.MaxValue)
            return false;
        (maxFrame, maxKey) = ((int)frame, (int)key);
        return true;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// Body of the hello request:
/// <c>[u16 version][u8 role][field password][u64 lastSequence][16 history id][16 node id][u8 node flags][u64 max record]</c>.
/// The last five matter for nodes only (what they hold, who they are, the largest record they can
/// store); clients send zeros.
/// </summary>
public readonly record struct HelloRequest(ushort Version, ConnectionRole Role, string Password, ulong LastSequence, Guid HistoryId, Guid NodeId, NodeHelloFlags Flags, ulong MaxRecord)
{
    /// <summary>Every byte but the password's.</summary>
    public const int FixedSize = 2 + 1 + FrameWriter.LengthPrefixSize + 8 + 16 + 16 + 1 + 8;

    private const NodeHelloFlags KnownFlags = NodeHelloFlags.MayHaveLostWrites | NodeHelloFlags.Embedded | NodeHelloFlags.Reset;

    /// <summary>
    /// What a client puts in the <c>max record</c> field (which only nodes use for a record limit) to ask for the router's
    /// flow limits in the hello reply (<see cref="HelloLimits"/>). A router that predates them ignores the field and sends
    /// the short reply; one that knows them appends them. 0 asks for the short reply.
    /// </summary>
    public const ulong ClientReadsLimits = 1;

    /// <summary>A client's hello: current version, zeros for the node fields, and the ask for the router's flow limits.</summary>
    public static HelloRequest ForClient(string password) =>
        new(ProtocolLimits.Version, ConnectionRole.Client, password, 0, Guid.Empty, Guid.Empty, NodeHelloFlags.None, ClientReadsLimits);

    public int BodyLength => FixedSize + Encoding.UTF8.GetByteCount(Password);

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(BodyLength, Opcode.Hello, FrameFlags.None, StatusCode.Ok, requestId));
        frame.UInt16(Version);
        frame.Byte((byte)Role);
        frame.Utf8Field(Password);
        frame.UInt64(LastSequence);
        frame.Guid(HistoryId);
        frame.Guid(NodeId);
        frame.Byte((byte)Flags);
        frame.UInt64(MaxRecord);
        frame.Complete();
    }

    /// <summary>
    /// The version alone, from the first two bytes: a peer of another version gets VersionMismatch
    /// even when the rest of its hello has another layout.
    /// </summary>
    public static bool TryReadVersion(ReadOnlySpan<byte> body, out ushort version)
    {
        version = 0;
        if (body.Length < 2)
            return false;
        version = BinaryPrimitives.ReadUInt16LittleEndian(body);
        return true;
    }

    /// <summary>Decodes the body in place; false unless it has exactly this shape, a known role and known flags.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out HelloFields fields)
    {
        fields = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt16(out var version)
            || !reader.TryReadByte(out var role)
            || !reader.TryReadField(out var password)
            || !reader.TryReadUInt64(out var lastSequence)
            || !reader.TryReadBytes(16, out var history)
            || !reader.TryReadBytes(16, out var node)
            || !reader.TryReadByte(out var flags)
            || !reader.TryReadUInt64(out var maxRecord)
            || !reader.IsAtEnd)
            return false;
        if (role is not ((byte)ConnectionRole.Client or (byte)ConnectionRole.Node) || (flags & ~(byte)KnownFlags) != 0)
            return false;
        fields = new HelloFields(version, (ConnectionRole)role, password, lastSequence, new Guid(history), new Guid(node), (NodeHelloFlags)flags, maxRecord);
        return true;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// Body of the hello request:
/// <c>[u16 version][u8 role][field password][u64 lastSequence][16 history id][16 node id][u8 node flags][u64 max record]</c>,
/// then optional trailing fields: <c>[field node name][field group name]</c> (a node's operator-given name, for logs and
/// info, absent or empty: none; the replica group the node belongs to, <c>kvndb-node --group</c>, absent or empty:
/// <see cref="DefaultGroup"/>; a node with a group sends a name field before it, empty if need be). The fields after the password matter for nodes only (what they hold, who
/// they are, the largest record they can store); clients send zeros and no name. A reader takes the
/// trailing fields it knows and ignores any bytes after them, so later versions may add more.
/// </summary>
public readonly record struct HelloRequest(ushort Version, ConnectionRole Role, string Password, ulong LastSequence, Guid HistoryId, Guid NodeId, NodeHelloFlags Flags, ulong MaxRecord, string NodeName = "", string GroupName = "")
{
    /// <summary>The group of a node that names none (a cluster of one group behaves as before groups existed).</summary>
    public const string DefaultGroup = "default";

    /// <summary>The longest group name, in UTF-8 bytes.</summary>
    public const int MaxGroupNameBytes = 64;

    /// <summary>
    /// A group name is 1 to <see cref="MaxGroupNameBytes"/> ASCII letters, digits, <c>-</c>, <c>_</c> or <c>.</c>: it
    /// appears in metrics labels, the info text and the router's metadata as it is.
    /// </summary>
    public static bool IsValidGroupName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxGroupNameBytes)
            return false;
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                return false;
        return true;
    }

    /// <summary>The longest node name, in UTF-8 bytes; a longer one is cut by the reader.</summary>
    public const int MaxNodeNameBytes = 128;

    /// <summary>
    /// The largest hello body a router reads before it has judged the hello: every field at its longest (the node name with
    /// its length prefix), with room for trailing fields. All an unauthenticated peer can make the router buffer is this
    /// and what one read brings with it; a header claiming more is refused from the header alone.
    /// </summary>
    public const int MaxBodySize = 6 * 1024;

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

    /// <summary>
    /// A node name as logs and the info text can carry it: one word (whitespace, control characters and
    /// <c>=</c> become <c>_</c>), cut to <see cref="MaxNodeNameBytes"/>. Nodes clean the name they send; routers
    /// clean the name they get.
    /// </summary>
    public static string CleanNodeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var clean = new StringBuilder(name.Length);
        foreach (var c in name)
            clean.Append(char.IsWhiteSpace(c) || char.IsControl(c) || c == '=' || c == '\uFFFD' ? '_' : c);
        var text = clean.ToString();
        while (Encoding.UTF8.GetByteCount(text) > MaxNodeNameBytes)
            text = text[..^1];
        return text;
    }

    public int BodyLength => FixedSize + Encoding.UTF8.GetByteCount(Password)
        + (string.IsNullOrEmpty(NodeName) && string.IsNullOrEmpty(GroupName) ? 0 : FrameWriter.FieldSize(Encoding.UTF8.GetByteCount(NodeName ?? "")))
        + (string.IsNullOrEmpty(GroupName) ? 0 : FrameWriter.FieldSize(Encoding.UTF8.GetByteCount(GroupName)));

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
        if (!string.IsNullOrEmpty(NodeName) || !string.IsNullOrEmpty(GroupName))
            frame.Utf8Field(NodeName ?? "");
        if (!string.IsNullOrEmpty(GroupName))
            frame.Utf8Field(GroupName);
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

    /// <summary>Decodes the body in place; false unless it has this shape (trailing fields optional), a known role and known flags.</summary>
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
            || !reader.TryReadUInt64(out var maxRecord))
            return false;
        ReadOnlySpan<byte> name = default;
        if (!reader.IsAtEnd && !reader.TryReadField(out name))
            return false;
        ReadOnlySpan<byte> group = default;
        if (!reader.IsAtEnd && !reader.TryReadField(out group))
            return false;
        if (role is not ((byte)ConnectionRole.Client or (byte)ConnectionRole.Node) || (flags & ~(byte)KnownFlags) != 0)
            return false;
        fields = new HelloFields(version, (ConnectionRole)role, password, lastSequence, new Guid(history), new Guid(node), (NodeHelloFlags)flags, maxRecord,
            name.Length <= MaxNodeNameBytes ? name : name[..MaxNodeNameBytes], group);
        return true;
    }
}

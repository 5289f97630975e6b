using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// Body of the hello request: <c>[u16 version][u8 role][field password][u64 lastSequence][16 history id]</c>.
/// The last two matter for nodes only (what they hold); clients send zeros.
/// </summary>
public readonly record struct HelloRequest(ushort Version, ConnectionRole Role, string Password, ulong LastSequence, Guid HistoryId)
{
    private const int FixedSize = 2 + 1 + 8 + 16;

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var passwordBytes = Encoding.UTF8.GetByteCount(Password);
        var bodyLength = FixedSize + FrameWriter.FieldSize(passwordBytes);
        var span = output.GetSpan(ProtocolLimits.HeaderSize + bodyLength);
        new FrameHeader(bodyLength, Opcode.Hello, FrameFlags.None, StatusCode.Ok, requestId).Write(span);
        var body = span[ProtocolLimits.HeaderSize..];
        BinaryPrimitives.WriteUInt16LittleEndian(body, Version);
        body[2] = (byte)Role;
        BinaryPrimitives.WriteInt32LittleEndian(body[3..], passwordBytes);
        var offset = 7 + Encoding.UTF8.GetBytes(Password, body[7..]);
        BinaryPrimitives.WriteUInt64LittleEndian(body[offset..], LastSequence);
        HistoryId.TryWriteBytes(body[(offset + 8)..]);
        output.Advance(ProtocolLimits.HeaderSize + bodyLength);
    }

    /// <summary>Decodes the body; the password stays as raw bytes so it can be compared in constant time.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ushort version, out ConnectionRole role,
        out ReadOnlySpan<byte> password, out ulong lastSequence, out Guid historyId)
    {
        var reader = new BodyReader(body);
        role = default;
        password = default;
        lastSequence = 0;
        historyId = Guid.Empty;
        if (!reader.TryReadUInt16(out version))
            return false;
        if (!reader.TryReadByte(out var roleByte) || !reader.TryReadField(out password))
            return false;
        role = (ConnectionRole)roleByte;
        if (!reader.TryReadUInt64(out lastSequence) || !reader.TryReadBytes(16, out var guidBytes))
            return false;
        historyId = new Guid(guidBytes);
        return reader.IsAtEnd && role is ConnectionRole.Client or ConnectionRole.Node;
    }
}

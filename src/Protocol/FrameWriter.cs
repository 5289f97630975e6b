using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// Writes frames straight into an <see cref="IBufferWriter{T}"/> (a pipe): size first, then one
/// <c>GetSpan</c>/<c>Advance</c>, never an intermediate array.
/// </summary>
public static class FrameWriter
{
    public const int LengthPrefixSize = 4;

    /// <summary>Size of a <c>[int32 length][bytes]</c> field.</summary>
    public static int FieldSize(int length) => LengthPrefixSize + length;

    public static void WriteHeaderOnly(IBufferWriter<byte> output, in FrameHeader header)
    {
        var span = output.GetSpan(ProtocolLimits.HeaderSize);
        header.Write(span);
        output.Advance(ProtocolLimits.HeaderSize);
    }

    /// <summary>A frame whose body is one length-prefixed field.</summary>
    public static void WriteWithField(IBufferWriter<byte> output, Opcode opcode, FrameFlags flags, StatusCode status,
        ulong requestId, ReadOnlySpan<byte> field)
    {
        var bodyLength = FieldSize(field.Length);
        var span = output.GetSpan(ProtocolLimits.HeaderSize + bodyLength);
        new FrameHeader(bodyLength, opcode, flags, status, requestId).Write(span);
        WriteField(span[ProtocolLimits.HeaderSize..], field);
        output.Advance(ProtocolLimits.HeaderSize + bodyLength);
    }

    /// <summary>A frame whose body is two length-prefixed fields (key, value).</summary>
    public static void WriteWithTwoFields(IBufferWriter<byte> output, Opcode opcode, FrameFlags flags,
        ulong requestId, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var bodyLength = FieldSize(first.Length) + FieldSize(second.Length);
        var span = output.GetSpan(ProtocolLimits.HeaderSize + bodyLength);
        new FrameHeader(bodyLength, opcode, flags, StatusCode.Ok, requestId).Write(span);
        var offset = ProtocolLimits.HeaderSize;
        offset += WriteField(span[offset..], first);
        WriteField(span[offset..], second);
        output.Advance(ProtocolLimits.HeaderSize + bodyLength);
    }

    /// <summary>A frame with a raw body (already encoded by the caller).</summary>
    public static void WriteRaw(IBufferWriter<byte> output, Opcode opcode, FrameFlags flags, StatusCode status,
        ulong requestId, ReadOnlySpan<byte> body)
    {
        var span = output.GetSpan(ProtocolLimits.HeaderSize + body.Length);
        new FrameHeader(body.Length, opcode, flags, status, requestId).Write(span);
        body.CopyTo(span[ProtocolLimits.HeaderSize..]);
        output.Advance(ProtocolLimits.HeaderSize + body.Length);
    }

    /// <summary>An error response: the status plus a UTF-8 message as the body (see <see cref="ErrorReply"/>).</summary>
    public static void WriteError(IBufferWriter<byte> output, Opcode opcode, ulong requestId, StatusCode status, string message) =>
        ErrorReply.Write(output, opcode, requestId, status, message);

    /// <summary>Writes <c>[int32 length][bytes]</c> and returns the bytes written.</summary>
    public static int WriteField(Span<byte> destination, ReadOnlySpan<byte> field)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, field.Length);
        field.CopyTo(destination[LengthPrefixSize..]);
        return LengthPrefixSize + field.Length;
    }

    /// <summary>Copies a frame (header and body) as it is, for forwarding; returns the header span to patch.</summary>
    public static Span<byte> CopyFrame(IBufferWriter<byte> output, in ReadOnlySequence<byte> frame)
    {
        var length = (int)frame.Length;
        var span = output.GetSpan(length);
        frame.CopyTo(span);
        output.Advance(length);
        return span[..length];
    }
}

using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>A found Get's reply body: <c>[field value]</c> (NotFound has an empty body).</summary>
public static class ValueReply
{
    public static void Write(IBufferWriter<byte> output, ulong requestId, ReadOnlySpan<byte> value)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(FrameWriter.FieldSize(value.Length), Opcode.Get, FrameFlags.Response, StatusCode.Ok, requestId));
        frame.Field(value);
        frame.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> value)
    {
        var reader = new BodyReader(body);
        return reader.TryReadField(out value) && reader.IsAtEnd;
    }

    /// <summary>The value of a reply still in the pipe, as a slice of it (forwarded without a copy).</summary>
    public static bool TryRead(in ReadOnlySequence<byte> body, out ReadOnlySequence<byte> value)
    {
        value = default;
        if (body.Length < FrameWriter.LengthPrefixSize)
            return false;
        Span<byte> prefix = stackalloc byte[FrameWriter.LengthPrefixSize];
        body.Slice(0, FrameWriter.LengthPrefixSize).CopyTo(prefix);
        var length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (length < 0 || length != body.Length - FrameWriter.LengthPrefixSize)
            return false;
        value = body.Slice(FrameWriter.LengthPrefixSize);
        return true;
    }
}

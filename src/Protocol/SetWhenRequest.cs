using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>The body of a <see cref="Opcode.SetWhen"/>: <c>[<see cref="SetWhenHeader"/>][field key][field value]</c>.</summary>
public static class SetWhenRequest
{
    public static int BodyLength(int keyLength, int valueLength) =>
        SetWhenHeader.Size + FrameWriter.FieldSize(keyLength) + FrameWriter.FieldSize(valueLength);

    /// <summary>Writes the body into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteBody(Span<byte> destination, in SetWhenHeader header, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(key.Length, value.Length)]);
        header.Write(body.Rest);
        body.Skip(SetWhenHeader.Size);
        body.Field(key);
        body.Field(value);
        return body.Complete();
    }

    /// <summary>A whole request frame.</summary>
    public static void Write(IBufferWriter<byte> output, FrameFlags flags, ulong requestId, in SetWhenHeader header, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var length = BodyLength(key.Length, value.Length);
        var span = output.GetSpan(ProtocolLimits.HeaderSize + length);
        new FrameHeader(length, Opcode.SetWhen, flags, StatusCode.Ok, requestId).Write(span);
        WriteBody(span[ProtocolLimits.HeaderSize..], header, key, value);
        output.Advance(ProtocolLimits.HeaderSize + length);
    }

    /// <summary>False unless the body is the header and exactly two fields (the header's values are checked by <see cref="SetWhenHeader.IsValid"/>).</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out SetWhenHeader header, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        key = value = default;
        if (!SetWhenHeader.TryRead(body, out header))
            return false;
        var reader = new BodyReader(body[SetWhenHeader.Size..]);
        return reader.TryReadField(out key) && reader.TryReadField(out value) && reader.IsAtEnd;
    }
}

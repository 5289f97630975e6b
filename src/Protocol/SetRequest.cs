using System.Buffers;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>The body of a Set: <c>[field key][field value]</c>.</summary>
public static class SetRequest
{
    public static int BodyLength(int keyLength, int valueLength) => FrameWriter.FieldSize(keyLength) + FrameWriter.FieldSize(valueLength);

    /// <summary>The body length of a UTF-8 key and value.</summary>
    public static int BodyLength(string key, string value) =>
        BodyLength(Encoding.UTF8.GetByteCount(key), Encoding.UTF8.GetByteCount(value));

    /// <summary>Writes the body into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteBody(Span<byte> destination, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(key.Length, value.Length)]);
        body.Field(key);
        body.Field(value);
        return body.Complete();
    }

    /// <summary>Writes the body of a UTF-8 key and value into <paramref name="destination"/>, exactly <see cref="BodyLength(string, string)"/> long.</summary>
    public static int WriteBody(Span<byte> destination, string key, string value)
    {
        var body = FrameBuilder.Body(destination);
        body.Utf8Field(key);
        body.Utf8Field(value);
        return body.Complete();
    }

    /// <summary>A whole request frame.</summary>
    public static void Write(IBufferWriter<byte> output, FrameFlags flags, ulong requestId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(BodyLength(key.Length, value.Length), Opcode.Set, flags, StatusCode.Ok, requestId));
        frame.Field(key);
        frame.Field(value);
        frame.Complete();
    }

    /// <summary>A whole request frame written into <paramref name="destination"/>; returns its length.</summary>
    public static int Write(Span<byte> destination, FrameFlags flags, ulong requestId, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var frame = FrameBuilder.Start(destination, new FrameHeader(BodyLength(key.Length, value.Length), Opcode.Set, flags, StatusCode.Ok, requestId));
        frame.Field(key);
        frame.Field(value);
        return frame.Complete();
    }

    /// <summary>Key and value; false unless the body is exactly two fields.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var reader = new BodyReader(body);
        value = default;
        return reader.TryReadField(out key) && reader.TryReadField(out value) && reader.IsAtEnd;
    }
}

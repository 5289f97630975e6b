using System.Buffers;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// The body of a one-key request, <c>[field key]</c>: Get, Exists, Delete, and ListKeys (the key is
/// the prefix, empty for all keys).
/// </summary>
public static class KeyRequest
{
    public static int BodyLength(int keyLength) => FrameWriter.FieldSize(keyLength);

    /// <summary>The body length of a UTF-8 key.</summary>
    public static int BodyLength(string key) => FrameWriter.FieldSize(Encoding.UTF8.GetByteCount(key));

    /// <summary>Writes the body into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteBody(Span<byte> destination, ReadOnlySpan<byte> key)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(key.Length)]);
        body.Field(key);
        return body.Complete();
    }

    /// <summary>Writes the body of a UTF-8 key into <paramref name="destination"/>, exactly <see cref="BodyLength(string)"/> long.</summary>
    public static int WriteBody(Span<byte> destination, string key)
    {
        var body = FrameBuilder.Body(destination);
        body.Utf8Field(key);
        return body.Complete();
    }

    /// <summary>A whole request frame.</summary>
    public static void Write(IBufferWriter<byte> output, Opcode opcode, FrameFlags flags, ulong requestId, ReadOnlySpan<byte> key)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(BodyLength(key.Length), opcode, flags, StatusCode.Ok, requestId));
        frame.Field(key);
        frame.Complete();
    }

    /// <summary>The key; false unless the body is exactly one field.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> key)
    {
        var reader = new BodyReader(body);
        return reader.TryReadField(out key) && reader.IsAtEnd;
    }
}

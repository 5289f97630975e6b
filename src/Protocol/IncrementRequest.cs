using System.Buffers;
using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>The body of an <see cref="Opcode.Increment"/>: <c>[i64 delta][field key]</c>.</summary>
public static class IncrementRequest
{
    public static int BodyLength(int keyLength) => 8 + FrameWriter.FieldSize(keyLength);

    public static int WriteBody(Span<byte> destination, long delta, ReadOnlySpan<byte> key)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(key.Length)]);
        body.Int64(delta);
        body.Field(key);
        return body.Complete();
    }

    public static void Write(IBufferWriter<byte> output, FrameFlags flags, ulong requestId, long delta, ReadOnlySpan<byte> key)
    {
        var frame = FrameBuilder.Start(output, new FrameHeader(BodyLength(key.Length), Opcode.Increment, flags, StatusCode.Ok, requestId));
        frame.Int64(delta);
        frame.Field(key);
        frame.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out long delta, out ReadOnlySpan<byte> key)
    {
        var reader = new BodyReader(body);
        key = default;
        return reader.TryReadInt64(out delta) && reader.TryReadField(out key) && reader.IsAtEnd;
    }
}

/// <summary>The body of an <see cref="Opcode.IncrementFloat"/>: <c>[f64 delta, IEEE 754 little-endian][field key]</c>; the delta must be finite.</summary>
public static class FloatIncrementRequest
{
    public static int BodyLength(int keyLength) => 8 + FrameWriter.FieldSize(keyLength);

    public static int WriteBody(Span<byte> destination, double delta, ReadOnlySpan<byte> key)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(key.Length)]);
        body.Int64(BitConverter.DoubleToInt64Bits(delta));
        body.Field(key);
        return body.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out double delta, out ReadOnlySpan<byte> key)
    {
        var reader = new BodyReader(body);
        key = default;
        var ok = reader.TryReadInt64(out var bits) && reader.TryReadField(out key) && reader.IsAtEnd;
        delta = BitConverter.Int64BitsToDouble(bits);
        return ok;
    }
}

/// <summary>The body of a <see cref="Opcode.SetRange"/>: <c>[u64 offset][field key][field value]</c>.</summary>
public static class SetRangeRequest
{
    public static int BodyLength(int keyLength, int valueLength) => 8 + FrameWriter.FieldSize(keyLength) + FrameWriter.FieldSize(valueLength);

    public static int WriteBody(Span<byte> destination, ulong offset, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(key.Length, value.Length)]);
        body.UInt64(offset);
        body.Field(key);
        body.Field(value);
        return body.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ulong offset, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var reader = new BodyReader(body);
        key = value = default;
        return reader.TryReadUInt64(out offset) && reader.TryReadField(out key) && reader.TryReadField(out value) && reader.IsAtEnd;
    }
}

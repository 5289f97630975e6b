using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// An outcome with a version and an optional value, <c>[u64 version][i32 length, -1 when absent][bytes]</c>:
/// SetWhen (the key's version after the write, or its current version when the condition failed; the old
/// value when asked for), GetDelete (the deleted version and value), IncrementFloat (the new value as text).
/// </summary>
public static class VersionedValueReply
{
    public static int BodySize(int valueLength) => 8 + FrameWriter.LengthPrefixSize + Math.Max(0, valueLength);

    /// <summary>Writes the body (value absent when <paramref name="present"/> is false); returns its length.</summary>
    public static int WriteBody(Span<byte> destination, ulong version, ReadOnlySpan<byte> value, bool present)
    {
        var body = FrameBuilder.Body(destination[..BodySize(present ? value.Length : 0)]);
        body.UInt64(version);
        if (present)
            body.Field(value);
        else
            body.AbsentField();
        return body.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ulong version, out ReadOnlySpan<byte> value, out bool present)
    {
        var reader = new BodyReader(body);
        value = default;
        present = false;
        return reader.TryReadUInt64(out version) && reader.TryReadOptionalField(out value, out present) && reader.IsAtEnd;
    }
}

/// <summary>
/// An outcome with a version and a number, <c>[u64 version][i64 number]</c>: Increment (the new value),
/// Append and SetRange (the new length), Expire (the expiry now in force, Unix ms; 0 when none).
/// </summary>
public static class VersionedNumberReply
{
    public const int Size = 16;

    public static int WriteBody(Span<byte> destination, ulong version, long number)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, version);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], number);
        return Size;
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ulong version, out long number)
    {
        version = 0;
        number = 0;
        if (body.Length != Size)
            return false;
        version = BinaryPrimitives.ReadUInt64LittleEndian(body);
        number = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        return true;
    }
}

/// <summary>A found GetVersioned's body: <c>[u64 version][i64 expires at, Unix ms, 0 when none][field value]</c>.</summary>
public static class VersionedGetReply
{
    public static int BodySize(int valueLength) => 16 + FrameWriter.FieldSize(valueLength);

    public static int WriteBody(Span<byte> destination, ulong version, long expiresAt, ReadOnlySpan<byte> value)
    {
        var body = FrameBuilder.Body(destination[..BodySize(value.Length)]);
        body.UInt64(version);
        body.Int64(expiresAt);
        body.Field(value);
        return body.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ulong version, out long expiresAt, out ReadOnlySpan<byte> value)
    {
        var reader = new BodyReader(body);
        expiresAt = 0;
        value = default;
        return reader.TryReadUInt64(out version) && reader.TryReadInt64(out expiresAt) && reader.TryReadField(out value) && reader.IsAtEnd;
    }
}

/// <summary>
/// A found TimeToLive's body: <c>[u64 version][i64 expires at, Unix ms, 0 when none][i64 remaining ms, -1 when none]</c>;
/// the remaining time is measured against the read's router time.
/// </summary>
public static class TimeToLiveReply
{
    public const int Size = 24;

    public static int WriteBody(Span<byte> destination, ulong version, long expiresAt, long remaining)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, version);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], expiresAt);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], remaining);
        return Size;
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ulong version, out long expiresAt, out long remaining)
    {
        version = 0;
        expiresAt = 0;
        remaining = 0;
        if (body.Length != Size)
            return false;
        version = BinaryPrimitives.ReadUInt64LittleEndian(body);
        expiresAt = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        remaining = BinaryPrimitives.ReadInt64LittleEndian(body[16..]);
        return true;
    }
}

/// <summary>
/// A node's outcome of a TimeMark: <c>[u32 keys removed][i64 next expiry, Unix ms, 0 when no key expires]</c>,
/// identical on replicas that agree; the router schedules its next mark from it.
/// </summary>
public static class TimeMarkReply
{
    public const int Size = 12;

    public static int WriteBody(Span<byte> destination, int removed, long nextDue)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)removed);
        BinaryPrimitives.WriteInt64LittleEndian(destination[4..], nextDue);
        return Size;
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out int removed, out long nextDue)
    {
        removed = 0;
        nextDue = 0;
        if (body.Length != Size)
            return false;
        removed = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body), int.MaxValue);
        nextDue = BinaryPrimitives.ReadInt64LittleEndian(body[4..]);
        return true;
    }
}

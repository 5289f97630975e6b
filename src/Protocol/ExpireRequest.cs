using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>What an <see cref="Opcode.Expire"/> does. Values are part of the wire format.</summary>
public enum ExpiryMode : byte
{
    /// <summary>Remove the expiry (Redis PERSIST).</summary>
    Persist = 0,
    /// <summary>Expire this many milliseconds after the write's (router) time (PEXPIRE).</summary>
    Relative = 1,
    /// <summary>Expire at this Unix time in milliseconds (PEXPIREAT).</summary>
    Absolute = 2,
}

/// <summary>Redis 7's EXPIRE options. Values are part of the wire format.</summary>
public enum ExpiryCondition : byte
{
    Always = 0,
    /// <summary>Only if the key has no expiry.</summary>
    NoExpiry = 1,
    /// <summary>Only if the key has an expiry.</summary>
    HasExpiry = 2,
    /// <summary>Only if the new expiry is later than the current one (no expiry counts as infinitely late).</summary>
    Later = 3,
    /// <summary>Only if the new expiry is earlier than the current one (no expiry counts as infinitely late).</summary>
    Earlier = 4,
    /// <summary>Only if the key has an expiry and the new one is earlier (Redis XX LT).</summary>
    HasExpiryEarlier = 5,
}

/// <summary>
/// The body of an <see cref="Opcode.Expire"/>: <c>[u8 mode][u8 condition][i64 time][field key]</c>. A
/// time at or before the write's time deletes the key (as Redis does).
/// </summary>
public static class ExpireRequest
{
    public const int FixedSize = 1 + 1 + 8;

    public static int BodyLength(int keyLength) => FixedSize + FrameWriter.FieldSize(keyLength);

    public static int WriteBody(Span<byte> destination, ExpiryMode mode, ExpiryCondition condition, long time, ReadOnlySpan<byte> key)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(key.Length)]);
        body.Byte((byte)mode);
        body.Byte((byte)condition);
        body.Int64(time);
        body.Field(key);
        return body.Complete();
    }

    /// <summary>False unless the body is well formed: a known mode and condition, a time of 0 for Persist.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ExpiryMode mode, out ExpiryCondition condition, out long time, out ReadOnlySpan<byte> key)
    {
        mode = default;
        condition = default;
        time = 0;
        key = default;
        if (body.Length < FixedSize)
            return false;
        mode = (ExpiryMode)body[0];
        condition = (ExpiryCondition)body[1];
        time = BinaryPrimitives.ReadInt64LittleEndian(body[2..]);
        var reader = new BodyReader(body[FixedSize..]);
        if (!reader.TryReadField(out key) || !reader.IsAtEnd)
            return false;
        return mode switch
        {
            ExpiryMode.Persist => condition == ExpiryCondition.Always && time == 0,
            ExpiryMode.Relative or ExpiryMode.Absolute => condition <= ExpiryCondition.HasExpiryEarlier,
            _ => false,
        };
    }
}

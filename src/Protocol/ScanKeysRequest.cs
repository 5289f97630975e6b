namespace KvnDb.Protocol;

/// <summary>
/// The body of a <see cref="Opcode.ScanKeys"/> read, one page of a scan (Redis SCAN):
/// <c>[u8 database][u64 position][u32 count][field pattern]</c>. Nodes walk the keys of the database in
/// <em>scan order</em>, a function of the key alone (its <see cref="KeySlot"/>, then a hash: docs/protocol.md
/// section 5.5), so every node answers the same position alike. <c>position</c> is where the page starts
/// (0: the beginning), below 2^<see cref="PositionBits"/>; <c>count</c> (at least 1) bounds the keys returned;
/// an empty pattern matches every key, any other is a Redis glob (<see cref="GlobPattern"/>). The reply is a
/// <see cref="ScanKeysReply"/>.
/// </summary>
public static class ScanKeysRequest
{
    /// <summary>Bits of a scan position: 14 of slot, 34 of hash. The RESP cursor keeps the bits above for a shard group.</summary>
    public const int PositionBits = 48;

    /// <summary>Positions are below this.</summary>
    public const ulong PositionLimit = 1UL << PositionBits;

    public const int FixedSize = 1 + 8 + 4;

    public static int BodyLength(int patternLength) => FixedSize + FrameWriter.FieldSize(patternLength);

    /// <summary>Writes the body into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteBody(Span<byte> destination, byte database, ulong position, uint count, ReadOnlySpan<byte> pattern)
    {
        var body = FrameBuilder.Body(destination[..BodyLength(pattern.Length)]);
        body.Byte(database);
        body.UInt64(position);
        body.UInt32(count);
        body.Field(pattern);
        return body.Complete();
    }

    /// <summary>The request's fields; false unless the body is exactly them, with a database of 0 to 15, a position below the limit and a count of at least 1.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out byte database, out ulong position, out uint count, out ReadOnlySpan<byte> pattern)
    {
        var reader = new BodyReader(body);
        pattern = default;
        position = 0;
        count = 0;
        if (!reader.TryReadByte(out database) || !reader.TryReadUInt64(out position) || !reader.TryReadUInt32(out count)
            || !reader.TryReadField(out pattern) || !reader.IsAtEnd)
            return false;
        return database < DatabaseKeys.Count && position < PositionLimit && count >= 1;
    }
}

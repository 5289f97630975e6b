namespace KvnDb.Protocol;

/// <summary>
/// The body of a <see cref="Opcode.ScanKeys"/> read, one page of a scan (Redis SCAN):
/// <c>[u8 database][u64 position][u32 count][field pattern]</c>. Nodes walk the keys of the database in
/// <em>scan order</em>, a function of the key alone (its <see cref="KeySlot"/>, then a hash: docs/protocol.md
/// section 5.5), so every node answers the same position alike. <c>position</c> is where the page starts
/// (0: the beginning), below 2^<see cref="PositionBits"/>; <c>count</c> (at least 1) bounds the keys returned;
/// an empty pattern matches every key, any other is a Redis glob (<see cref="GlobPattern"/>). The reply is a
/// <see cref="ScanKeysReply"/>. An optional trailing <c>[u64 end]</c> bounds the page: only positions below it are
/// examined, and once none is left below it the reply's next position is <c>end</c> (0 when it is the limit). A router
/// with several groups sends each page to the group that owns the cursor's slot, bounded by the end of that group's run
/// of slots (docs/protocol.md section 5.5).
/// </summary>
public static class ScanKeysRequest
{
    /// <summary>Bits of a scan position: 14 of slot, 34 of hash. The RESP cursor keeps the bits above for a shard group.</summary>
    public const int PositionBits = 48;

    /// <summary>Positions are below this.</summary>
    public const ulong PositionLimit = 1UL << PositionBits;

    /// <summary>A position's slot is its top 14 bits.</summary>
    private const int SlotShift = PositionBits - 14;

    /// <summary>The slot of the keys at <paramref name="position"/>.</summary>
    public static int SlotOf(ulong position) => (int)(position >> SlotShift);

    /// <summary>The first position of <paramref name="slot"/>; <see cref="PositionLimit"/> for the slot past the last.</summary>
    public static ulong FirstPositionOf(int slot) => (ulong)slot << SlotShift;

    public const int FixedSize = 1 + 8 + 4;

    public static int BodyLength(int patternLength) => FixedSize + FrameWriter.FieldSize(patternLength);

    /// <summary>The length of a body that carries an end position.</summary>
    public static int BoundedBodyLength(int patternLength) => BodyLength(patternLength) + EndSize;

    /// <summary>The optional trailing end position.</summary>
    public const int EndSize = 8;

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

    /// <summary>Writes a body bounded by <paramref name="end"/> (above <paramref name="position"/>, at most <see cref="PositionLimit"/>); returns its length.</summary>
    public static int WriteBody(Span<byte> destination, byte database, ulong position, uint count, ReadOnlySpan<byte> pattern, ulong end)
    {
        var body = FrameBuilder.Body(destination[..BoundedBodyLength(pattern.Length)]);
        body.Byte(database);
        body.UInt64(position);
        body.UInt32(count);
        body.Field(pattern);
        body.UInt64(end);
        return body.Complete();
    }

    /// <summary>The request's fields; false unless the body is exactly them, with a database of 0 to 15, a position below the limit and a count of at least 1.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out byte database, out ulong position, out uint count, out ReadOnlySpan<byte> pattern) =>
        TryRead(body, out database, out position, out count, out pattern, out _);

    /// <summary>
    /// The request's fields and its end position (<see cref="PositionLimit"/> when the body has none); false unless the end,
    /// when given, is above the position and at most the limit.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out byte database, out ulong position, out uint count, out ReadOnlySpan<byte> pattern, out ulong end)
    {
        var reader = new BodyReader(body);
        pattern = default;
        position = 0;
        count = 0;
        end = PositionLimit;
        if (!reader.TryReadByte(out database) || !reader.TryReadUInt64(out position) || !reader.TryReadUInt32(out count)
            || !reader.TryReadField(out pattern))
            return false;
        if (!reader.IsAtEnd && (!reader.TryReadUInt64(out end) || !reader.IsAtEnd))
            return false;
        return database < DatabaseKeys.Count && position < PositionLimit && count >= 1 && end > position && end <= PositionLimit;
    }
}

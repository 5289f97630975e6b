namespace KvnDb.Protocol;

/// <summary>
/// A multi-get reply body, read in place: <c>[u32 count]([i32 length][bytes] or [i32 -1])*</c>, one
/// entry per requested key in request order, -1 for a missing key. Written by <see cref="MultiGetReplyWriter"/>.
/// </summary>
public ref struct MultiGetReply
{
    public const int HeaderSize = 4;

    /// <summary>What a missing key's entry takes.</summary>
    public const int MissingSize = FrameWriter.LengthPrefixSize;

    private readonly uint _claimed;
    private BodyReader _reader;
    private uint _left;

    private MultiGetReply(ReadOnlySpan<byte> entries, uint claimed)
    {
        _reader = new BodyReader(entries);
        _claimed = claimed;
        // Never trusted past the body: each entry takes at least its length prefix.
        Count = Math.Min(claimed, (uint)(entries.Length / MissingSize));
        _left = Count;
    }

    /// <summary>Entries the reply announces, at most as many as its body could hold.</summary>
    public uint Count { get; }

    /// <summary>Every announced entry was read and nothing follows them.</summary>
    public readonly bool IsComplete => _left == 0 && _claimed == Count && _reader.IsAtEnd;

    /// <summary>What a found value's entry takes.</summary>
    public static int ValueSize(int valueLength) => FrameWriter.FieldSize(valueLength);

    public static bool TryRead(ReadOnlySpan<byte> body, out MultiGetReply reply)
    {
        reply = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt32(out var count))
            return false;
        reply = new MultiGetReply(body[HeaderSize..], count);
        return true;
    }

    /// <summary>The next entry: <paramref name="found"/> false for a missing key. False after the last entry or at a malformed one.</summary>
    public bool TryReadNext(out ReadOnlySpan<byte> value, out bool found)
    {
        value = default;
        found = false;
        if (_left == 0 || !_reader.TryReadOptionalField(out value, out found))
            return false;
        _left--;
        return true;
    }
}

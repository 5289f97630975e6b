namespace KvnDb.Protocol;

/// <summary>
/// A MultiSet body read in place: <c>[u32 count]([field key][field value])*</c> (written by
/// <see cref="CountedBodyWriter"/>). Check the body with <see cref="BodyValidator"/> first when the count must be honest.
/// </summary>
public ref struct MultiSetRequest
{
    private BodyReader _reader;
    private uint _left;

    private MultiSetRequest(ReadOnlySpan<byte> pairs, uint count)
    {
        _reader = new BodyReader(pairs);
        _left = count;
        Count = count;
    }

    public uint Count { get; }

    public readonly bool IsComplete => _left == 0 && _reader.IsAtEnd;

    public static bool TryRead(ReadOnlySpan<byte> body, out MultiSetRequest request)
    {
        request = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt32(out var count))
            return false;
        request = new MultiSetRequest(body[CountedBodyWriter.HeaderSize..], count);
        return true;
    }

    public bool TryReadNext(out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (_left == 0 || !_reader.TryReadField(out key) || !_reader.TryReadField(out value))
        {
            key = default;
            return false;
        }
        _left--;
        return true;
    }
}

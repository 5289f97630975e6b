namespace KvnDb.Protocol;

/// <summary>
/// A MultiGet body read in place: <c>[u32 count]([field key])*</c> (written by <see cref="CountedBodyWriter"/>).
/// Check the body with <see cref="BodyValidator"/> first when the count must be honest.
/// </summary>
public ref struct MultiGetRequest
{
    private BodyReader _reader;
    private uint _left;

    private MultiGetRequest(ReadOnlySpan<byte> keys, uint count)
    {
        _reader = new BodyReader(keys);
        _left = count;
        Count = count;
    }

    public uint Count { get; }

    public readonly bool IsComplete => _left == 0 && _reader.IsAtEnd;

    public static bool TryRead(ReadOnlySpan<byte> body, out MultiGetRequest request)
    {
        request = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt32(out var count))
            return false;
        request = new MultiGetRequest(body[CountedBodyWriter.HeaderSize..], count);
        return true;
    }

    public bool TryReadNext(out ReadOnlySpan<byte> key)
    {
        key = default;
        if (_left == 0 || !_reader.TryReadField(out key))
            return false;
        _left--;
        return true;
    }
}

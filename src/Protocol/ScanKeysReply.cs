using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// A node's answer to a <see cref="Opcode.ScanKeys"/>: <c>[u64 next position][u32 count]([field key])*</c>. The keys
/// are the database's own (without its namespace prefix), in scan order; <c>next</c> is the position the next page
/// starts at, 0 once the scan is complete. A page may hold fewer keys than asked, none at all, and still not be the
/// last (the node bounds the records it examines per page, as Redis does). Read in place: keys point into the frame.
/// </summary>
public ref struct ScanKeysReply
{
    public const int HeaderSize = 8 + 4;

    private BodyReader _reader;
    private uint _left;

    private ScanKeysReply(ReadOnlySpan<byte> keys, ulong next, uint count)
    {
        _reader = new BodyReader(keys);
        _left = count;
        Next = next;
        Count = count;
    }

    /// <summary>Where the next page starts; 0 when this page ends the scan.</summary>
    public ulong Next { get; }

    /// <summary>Keys the page announces.</summary>
    public uint Count { get; }

    /// <summary>Every announced key was read and nothing follows them.</summary>
    public readonly bool IsComplete => _left == 0 && _reader.IsAtEnd;

    /// <summary>What one key adds to a reply's body.</summary>
    public static int KeySize(int keyLength) => FrameWriter.FieldSize(keyLength);

    /// <summary>A reply frame of <paramref name="keys"/> (sized first, then written in one span).</summary>
    public static void Write(IBufferWriter<byte> output, ulong requestId, ulong next, ReadOnlySpan<ReadOnlyMemory<byte>> keys)
    {
        var length = HeaderSize;
        foreach (var key in keys)
            length += KeySize(key.Length);
        var frame = FrameBuilder.Start(output, new FrameHeader(length, Opcode.ScanKeys, FrameFlags.Response, StatusCode.Ok, requestId));
        frame.UInt64(next);
        frame.UInt32((uint)keys.Length);
        foreach (var key in keys)
            frame.Field(key.Span);
        frame.Complete();
    }

    /// <summary>The page's header; false when the body is too short or the next position is out of range. Read keys with <see cref="TryReadNext"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ScanKeysReply reply)
    {
        reply = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt64(out var next) || !reader.TryReadUInt32(out var count) || next >= ScanKeysRequest.PositionLimit)
            return false;
        reply = new ScanKeysReply(body[HeaderSize..], next, count);
        return true;
    }

    /// <summary>The next key; false after the last one or at a malformed one (then <see cref="IsComplete"/> is false).</summary>
    public bool TryReadNext(out ReadOnlySpan<byte> key)
    {
        key = default;
        if (_left == 0 || !_reader.TryReadField(out key))
            return false;
        _left--;
        return true;
    }
}

using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// One frame of a key listing: <c>[u32 count]([field key])*</c>. Every frame but the last has
/// <see cref="FrameFlags.More"/>; the last (possibly empty) ends the stream. Written by the node,
/// read in place by the client and RESP; keys point into the frame and die with it.
/// </summary>
public ref struct KeyListChunk
{
    public const int HeaderSize = 4;

    private BodyReader _reader;
    private uint _left;

    private KeyListChunk(ReadOnlySpan<byte> keys, uint count)
    {
        _reader = new BodyReader(keys);
        _left = count;
        Count = count;
    }

    /// <summary>Keys the chunk announces.</summary>
    public uint Count { get; }

    /// <summary>Every announced key was read and nothing follows them.</summary>
    public readonly bool IsComplete => _left == 0 && _reader.IsAtEnd;

    /// <summary>What one key adds to a chunk's body.</summary>
    public static int KeySize(int keyLength) => FrameWriter.FieldSize(keyLength);

    public static int BodyLength(ReadOnlySpan<byte[]> keys)
    {
        var length = HeaderSize;
        foreach (var key in keys)
            length += KeySize(key.Length);
        return length;
    }

    /// <summary>A chunk frame of <paramref name="keys"/>; <paramref name="more"/> unless it ends the listing.</summary>
    public static void Write(IBufferWriter<byte> output, ulong requestId, bool more, ReadOnlySpan<byte[]> keys)
    {
        var flags = more ? FrameFlags.Response | FrameFlags.More : FrameFlags.Response;
        var frame = FrameBuilder.Start(output, new FrameHeader(BodyLength(keys), Opcode.ListKeys, flags, StatusCode.Ok, requestId));
        frame.UInt32((uint)keys.Length);
        foreach (var key in keys)
            frame.Field(key);
        frame.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out KeyListChunk chunk)
    {
        chunk = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt32(out var count))
            return false;
        chunk = new KeyListChunk(body[HeaderSize..], count);
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

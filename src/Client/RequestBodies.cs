using System.Buffers.Binary;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>A request body that knows its size and writes itself into the send buffer (no intermediate array).</summary>
internal interface IRequestBody
{
    int Length { get; }

    void Write(Span<byte> destination);
}

internal readonly struct EmptyBody : IRequestBody
{
    public int Length => 0;

    public void Write(Span<byte> destination)
    {
    }
}

internal readonly struct BytesKeyBody(ReadOnlyMemory<byte> key) : IRequestBody
{
    public int Length => FrameWriter.FieldSize(key.Length);

    public void Write(Span<byte> destination) => FrameWriter.WriteField(destination, key.Span);
}

internal readonly struct StringKeyBody(string key) : IRequestBody
{
    public int Length => FrameWriter.FieldSize(Encoding.UTF8.GetByteCount(key));

    public void Write(Span<byte> destination) => Utf8Field.Write(destination, key);
}

internal readonly struct BytesKeyValueBody(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value) : IRequestBody
{
    public int Length => FrameWriter.FieldSize(key.Length) + FrameWriter.FieldSize(value.Length);

    public void Write(Span<byte> destination)
    {
        var offset = FrameWriter.WriteField(destination, key.Span);
        FrameWriter.WriteField(destination[offset..], value.Span);
    }
}

internal readonly struct StringKeyValueBody(string key, string value) : IRequestBody
{
    public int Length => FrameWriter.FieldSize(Encoding.UTF8.GetByteCount(key)) + FrameWriter.FieldSize(Encoding.UTF8.GetByteCount(value));

    public void Write(Span<byte> destination)
    {
        var offset = Utf8Field.Write(destination, key);
        Utf8Field.Write(destination[offset..], value);
    }
}

/// <summary>Multi-get: <c>[u32 count][field key]...</c>.</summary>
internal readonly struct MultiKeyBody(IReadOnlyList<ReadOnlyMemory<byte>> keys) : IRequestBody
{
    public int Length
    {
        get
        {
            var length = 4;
            foreach (var key in keys)
                length += FrameWriter.FieldSize(key.Length);
            return length;
        }
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)keys.Count);
        var offset = 4;
        foreach (var key in keys)
            offset += FrameWriter.WriteField(destination[offset..], key.Span);
    }
}

/// <summary>Multi-set: <c>[u32 count]([field key][field value])...</c>.</summary>
internal readonly struct MultiSetBody(IReadOnlyList<KeyValuePair<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>> pairs) : IRequestBody
{
    public int Length
    {
        get
        {
            var length = 4;
            foreach (var pair in pairs)
                length += FrameWriter.FieldSize(pair.Key.Length) + FrameWriter.FieldSize(pair.Value.Length);
            return length;
        }
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)pairs.Count);
        var offset = 4;
        foreach (var pair in pairs)
        {
            offset += FrameWriter.WriteField(destination[offset..], pair.Key.Span);
            offset += FrameWriter.WriteField(destination[offset..], pair.Value.Span);
        }
    }
}

internal static class Utf8Field
{
    public static int Write(Span<byte> destination, string text)
    {
        var written = Encoding.UTF8.GetBytes(text, destination[FrameWriter.LengthPrefixSize..]);
        BinaryPrimitives.WriteInt32LittleEndian(destination, written);
        return FrameWriter.LengthPrefixSize + written;
    }
}

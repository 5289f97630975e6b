using System.Buffers.Binary;

namespace KvnDb.Protocol;

/// <summary>
/// Reads the fields of a frame body in place. Every read is bounds-checked against the body,
/// never against what a length field claims; a bad body yields <c>false</c>, never an exception.
/// </summary>
internal ref struct BodyReader
{
    private readonly ReadOnlySpan<byte> _body;
    private int _position;

    public BodyReader(ReadOnlySpan<byte> body)
    {
        _body = body;
        _position = 0;
    }

    public readonly int Remaining => _body.Length - _position;

    public readonly bool IsAtEnd => _position == _body.Length;

    public bool TryReadField(out ReadOnlySpan<byte> field)
    {
        field = default;
        if (Remaining < FrameWriter.LengthPrefixSize)
            return false;
        var length = BinaryPrimitives.ReadInt32LittleEndian(_body[_position..]);
        if (length < 0 || length > Remaining - FrameWriter.LengthPrefixSize)
            return false;
        field = _body.Slice(_position + FrameWriter.LengthPrefixSize, length);
        _position += FrameWriter.LengthPrefixSize + length;
        return true;
    }

    /// <summary>A nullable field: length -1 means absent (used for missing values in multi-get replies).</summary>
    public bool TryReadOptionalField(out ReadOnlySpan<byte> field, out bool present)
    {
        field = default;
        present = false;
        if (Remaining < FrameWriter.LengthPrefixSize)
            return false;
        if (BinaryPrimitives.ReadInt32LittleEndian(_body[_position..]) == -1)
        {
            _position += FrameWriter.LengthPrefixSize;
            return true;
        }
        present = true;
        return TryReadField(out field);
    }

    public bool TryReadUInt64(out ulong value)
    {
        value = 0;
        if (Remaining < 8)
            return false;
        value = BinaryPrimitives.ReadUInt64LittleEndian(_body[_position..]);
        _position += 8;
        return true;
    }

    public bool TryReadInt64(out long value)
    {
        var read = TryReadUInt64(out var bits);
        value = (long)bits;
        return read;
    }

    public bool TryReadUInt32(out uint value)
    {
        value = 0;
        if (Remaining < 4)
            return false;
        value = BinaryPrimitives.ReadUInt32LittleEndian(_body[_position..]);
        _position += 4;
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        value = 0;
        if (Remaining < 2)
            return false;
        value = BinaryPrimitives.ReadUInt16LittleEndian(_body[_position..]);
        _position += 2;
        return true;
    }

    public bool TryReadByte(out byte value)
    {
        value = 0;
        if (Remaining < 1)
            return false;
        value = _body[_position++];
        return true;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (count < 0 || Remaining < count)
            return false;
        bytes = _body.Slice(_position, count);
        _position += count;
        return true;
    }
}

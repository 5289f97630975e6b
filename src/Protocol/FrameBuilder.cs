using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// Writes one frame (or one body) into a span of exactly its size, field after field: the message
/// types' writers size their output first, then fill it through this, so no offset arithmetic is
/// repeated per message. <see cref="Complete"/> checks the size was honest and advances the writer.
/// </summary>
internal ref struct FrameBuilder
{
    private readonly IBufferWriter<byte>? _output;
    private readonly Span<byte> _span;
    private int _position;

    private FrameBuilder(IBufferWriter<byte>? output, Span<byte> span)
    {
        _output = output;
        _span = span;
        _position = 0;
    }

    /// <summary>A frame of <paramref name="header"/>'s length in <paramref name="output"/>, header written.</summary>
    public static FrameBuilder Start(IBufferWriter<byte> output, scoped in FrameHeader header)
    {
        var builder = new FrameBuilder(output, output.GetSpan(header.FrameLength)[..header.FrameLength]);
        header.Write(builder._span);
        builder._position = ProtocolLimits.HeaderSize;
        return builder;
    }

    /// <summary>A frame written into <paramref name="destination"/>, which must hold it all.</summary>
    public static FrameBuilder Start(Span<byte> destination, scoped in FrameHeader header)
    {
        var builder = new FrameBuilder(null, destination[..header.FrameLength]);
        header.Write(builder._span);
        builder._position = ProtocolLimits.HeaderSize;
        return builder;
    }

    /// <summary>A bare body (no header) written into <paramref name="destination"/>.</summary>
    public static FrameBuilder Body(Span<byte> destination) => new(null, destination);

    public readonly int Position => _position;

    /// <summary>The bytes still to write (for copying a body straight into place).</summary>
    public readonly Span<byte> Rest => _span[_position..];

    public void Byte(byte value) => _span[_position++] = value;

    public void UInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_span[_position..], value);
        _position += 2;
    }

    public void UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_span[_position..], value);
        _position += 4;
    }

    public void UInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_span[_position..], value);
        _position += 8;
    }

    public void Int64(long value) => UInt64((ulong)value);

    public void Guid(Guid value)
    {
        value.TryWriteBytes(_span[_position..]);
        _position += 16;
    }

    public void Field(ReadOnlySpan<byte> field) => _position += FrameWriter.WriteField(_span[_position..], field);

    /// <summary>A UTF-8 field: the length prefix is the encoded size.</summary>
    public void Utf8Field(ReadOnlySpan<char> text)
    {
        var written = Encoding.UTF8.GetBytes(text, _span[(_position + FrameWriter.LengthPrefixSize)..]);
        BinaryPrimitives.WriteInt32LittleEndian(_span[_position..], written);
        _position += FrameWriter.LengthPrefixSize + written;
    }

    /// <summary>A field with length -1: absent (multi-get replies).</summary>
    public void AbsentField()
    {
        BinaryPrimitives.WriteInt32LittleEndian(_span[_position..], -1);
        _position += FrameWriter.LengthPrefixSize;
    }

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_span[_position..]);
        _position += bytes.Length;
    }

    public void Bytes(in ReadOnlySequence<byte> bytes)
    {
        bytes.CopyTo(_span[_position..]);
        _position += (int)bytes.Length;
    }

    public void Utf8(ReadOnlySpan<char> text) => _position += Encoding.UTF8.GetBytes(text, _span[_position..]);

    /// <summary>Skips bytes the caller fills through <see cref="Rest"/>.</summary>
    public void Skip(int count) => _position += count;

    /// <summary>Checks the frame was filled exactly, advances the output; returns the bytes written.</summary>
    public readonly int Complete()
    {
        if (_position != _span.Length)
            ThrowSizeMismatch(_position, _span.Length);
        _output?.Advance(_position);
        return _position;
    }

    private static void ThrowSizeMismatch(int written, int sized) =>
        throw new InvalidOperationException($"frame writer sized {sized} bytes but wrote {written}");
}

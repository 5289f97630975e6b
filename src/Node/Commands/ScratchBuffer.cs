using System.Buffers;

namespace KvnDb.Node.Commands;

/// <summary>
/// A reusable growable buffer whose written bytes stay writable (a transaction patches entry headers
/// after evaluating each operation). Kept between requests; released when one request made it huge.
/// </summary>
internal sealed class ScratchBuffer : IBufferWriter<byte>
{
    private const int InitialSize = 4096;
    private const int KeepSize = 1 << 20;
    private byte[] _buffer = new byte[InitialSize];

    public int WrittenCount { get; private set; }

    public Span<byte> WrittenSpan => _buffer.AsSpan(0, WrittenCount);

    public void Reset()
    {
        WrittenCount = 0;
        if (_buffer.Length > KeepSize)
            _buffer = new byte[InitialSize];
    }

    /// <summary>Forgets what was written from <paramref name="count"/> on.</summary>
    public void Truncate(int count) => WrittenCount = count;

    public void Advance(int count) => WrittenCount += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(WrittenCount);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(WrittenCount);
    }

    /// <summary>Exactly <paramref name="length"/> bytes to fill, already counted as written.</summary>
    public Span<byte> Take(int length)
    {
        var span = GetSpan(length)[..length];
        WrittenCount += length;
        return span;
    }

    private void Ensure(int sizeHint)
    {
        var needed = (long)WrittenCount + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
            return;
        var size = (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _buffer.Length));
        Array.Resize(ref _buffer, size);
    }
}

using System.Buffers;

namespace KvnDb.Protocol;

/// <summary>
/// A frame as one span: the pipe's own memory when the frame sits in one segment (the fast,
/// common case), else a pooled copy. Dispose returns the copy.
/// </summary>
public ref struct ContiguousBytes
{
    private byte[]? _rented;

    public ContiguousBytes(in ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsSingleSegment)
        {
            Span = bytes.FirstSpan;
            _rented = null;
            return;
        }
        var length = (int)bytes.Length;
        _rented = ArrayPool<byte>.Shared.Rent(length);
        bytes.CopyTo(_rented);
        Span = _rented.AsSpan(0, length);
    }

    public ReadOnlySpan<byte> Span { get; private set; }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
            Span = default;
        }
    }
}

using System.Buffers;

namespace KvnDb.Router;

/// <summary>
/// Where a client's replies wait while its transport is still draining an earlier flush (<see cref="OutputChannel"/>):
/// pooled chunks, so the transport's writer is never touched while its flush is in flight (a TLS writer would race).
/// Used only under back-pressure; a client that reads never spills. Not thread-safe: its channel's lock guards it.
/// </summary>
internal sealed class SpillBuffer : IBufferWriter<byte>
{
    private const int ChunkSize = 64 * 1024;
    private readonly List<(byte[] Array, int Length)> _chunks = [];

    /// <summary>Bytes held.</summary>
    public long Length { get; private set; }

    public void Advance(int count)
    {
        var last = _chunks[^1];
        _chunks[^1] = (last.Array, last.Length + count);
        Length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var needed = Math.Max(1, sizeHint);
        if (_chunks.Count == 0 || _chunks[^1].Array.Length - _chunks[^1].Length < needed)
            _chunks.Add((ArrayPool<byte>.Shared.Rent(Math.Max(ChunkSize, needed)), 0));
        var last = _chunks[^1];
        return last.Array.AsMemory(last.Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>Moves everything held into <paramref name="target"/>, in order, and gives the chunks back.</summary>
    public void MoveTo(IBufferWriter<byte> target)
    {
        foreach (var (array, length) in _chunks)
        {
            target.Write(array.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(array);
        }
        _chunks.Clear();
        Length = 0;
    }

    /// <summary>Drops everything held (the peer was cut off).</summary>
    public void Clear()
    {
        foreach (var (array, _) in _chunks)
            ArrayPool<byte>.Shared.Return(array);
        _chunks.Clear();
        Length = 0;
    }
}

using System.Buffers;

namespace KvnDb.Router.Replication;

/// <summary>
/// One buffer of the replication log: complete node-bound frames back to back. Written only by the
/// sequencer (under its lock); read without locks by the node senders up to <see cref="Committed"/>.
/// A segment is sealed once <see cref="Next"/> is set: its <see cref="Committed"/> never moves again.
/// </summary>
internal sealed class LogSegment(int capacity)
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(capacity);
    private int _committed;
    private LogSegment? _next;
    private int _readers;

    public int Capacity { get; } = capacity;

    /// <summary>Where this segment's first byte sits in the stream of every byte ever appended to the log.</summary>
    public long StartPosition { get; set; }

    /// <summary>First sequence written here (0 while empty).</summary>
    public ulong FirstSequence { get; private set; }

    public ulong LastSequence { get; private set; }

    /// <summary>Bytes of complete frames, published to readers with release semantics.</summary>
    public int Committed => Volatile.Read(ref _committed);

    public int Free => Capacity - _committed;

    public LogSegment? Next => Volatile.Read(ref _next);

    /// <summary>Cursors positioned in this segment; a segment with readers is never evicted.</summary>
    public int Readers => Volatile.Read(ref _readers);

    public ReadOnlySpan<byte> Bytes(int from, int to) => _buffer.AsSpan(from, to - from);

    /// <summary>Room for one frame; <see cref="Commit"/> publishes it.</summary>
    public Span<byte> Reserve(int length) => _buffer.AsSpan(_committed, length);

    public void Commit(int length, ulong sequence)
    {
        if (FirstSequence == 0)
            FirstSequence = sequence;
        LastSequence = sequence;
        Volatile.Write(ref _committed, _committed + length);
    }

    public void Seal(LogSegment next) => Volatile.Write(ref _next, next);

    public void AddReader() => Interlocked.Increment(ref _readers);

    public void RemoveReader() => Interlocked.Decrement(ref _readers);

    /// <summary>Empties an evicted segment for reuse as the new tail (no reader can reach it any more).</summary>
    public LogSegment Reset()
    {
        _committed = 0;
        _next = null;
        FirstSequence = 0;
        LastSequence = 0;
        return this;
    }

    public void Release()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}

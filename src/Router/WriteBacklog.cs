using System.Buffers;
using System.Buffers.Binary;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// The most recent writes, as node-bound frames, bounded in bytes (<c>--backlog</c>). A node that
/// comes back holding a prefix of the current history is sent only the writes after its last
/// sequence when they are all still here. Stored in chunks (an eighth of the capacity, at most 1 MiB) from the array pool, evicted
/// whole, oldest first; entries are <c>[u32 length][frame]</c>. Called under the write-order lock.
/// </summary>
internal sealed class WriteBacklog(long capacityBytes)
{
    private readonly int _chunkSize = (int)Math.Clamp(capacityBytes / 8, 4096, 1024 * 1024);
    private readonly LinkedList<Chunk> _chunks = new();
    private Chunk? _spare;
    private long _bytes;

    /// <summary>Oldest sequence held (0 when empty).</summary>
    public ulong OldestSequence => _chunks.First?.Value.FirstSequence ?? 0;

    public ulong NewestSequence { get; private set; }

    public long Bytes => _bytes;

    /// <summary>Stores a write exactly as nodes receive it, flagged NoReply: replays are not acknowledged.</summary>
    public void Append(in FrameHeader header, in ReadOnlySequence<byte> frame, ulong sequence)
    {
        var frameLength = ProtocolLimits.HeaderSize + 8 + header.BodyLength;
        var entryLength = 4 + frameLength;
        if (entryLength > capacityBytes)
        {
            Clear(); // cannot hold it: nobody can be replayed across this write
            NewestSequence = sequence;
            return;
        }
        var chunk = _chunks.Last?.Value;
        if (chunk is null || chunk.Free < entryLength)
        {
            chunk = entryLength <= _chunkSize && _spare is not null ? _spare.Reuse(sequence) : new Chunk(Math.Max(_chunkSize, entryLength), sequence);
            _spare = null;
            _chunks.AddLast(chunk);
            _bytes += chunk.Capacity;
            while (_bytes > capacityBytes && _chunks.Count > 1)
                Evict();
        }
        var span = chunk.Reserve(entryLength);
        BinaryPrimitives.WriteInt32LittleEndian(span, frameLength);
        new FrameHeader(header.BodyLength + 8, header.Opcode, FrameFlags.NoReply, StatusCode.Ok, 0).Write(span[4..]);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(4 + ProtocolLimits.HeaderSize)..], sequence);
        frame.Slice(ProtocolLimits.HeaderSize).CopyTo(span[(4 + ProtocolLimits.HeaderSize + 8)..]);
        NewestSequence = sequence;
    }

    /// <summary>True when every write after <paramref name="sequence"/> is held.</summary>
    public bool Covers(ulong sequence) => _chunks.Count > 0 && OldestSequence <= sequence + 1 && sequence <= NewestSequence;

    /// <summary>Writes every held write with a sequence above <paramref name="after"/>; returns how many.</summary>
    public int ReplayAfter(ulong after, OutputChannel output)
    {
        var count = 0;
        foreach (var chunk in _chunks)
        {
            var data = chunk.Written;
            while (data.Length > 0)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(data);
                var frame = data.Slice(4, length);
                var sequence = BinaryPrimitives.ReadUInt64LittleEndian(frame[ProtocolLimits.HeaderSize..]);
                if (sequence > after)
                {
                    output.TryWriteRaw(frame);
                    count++;
                }
                data = data[(4 + length)..];
            }
        }
        return count;
    }

    public void Clear()
    {
        while (_chunks.Count > 0)
            Evict();
        _spare?.Dispose();
        _spare = null;
    }

    private void Evict()
    {
        var chunk = _chunks.First!.Value;
        _chunks.RemoveFirst();
        _bytes -= chunk.Capacity;
        // Once full, the backlog recycles its oldest chunk: steady-state writes allocate nothing.
        if (chunk.Capacity == _chunkSize && _spare is null)
            _spare = chunk;
        else
            chunk.Dispose();
    }

    private sealed class Chunk(int capacity, ulong firstSequence) : IDisposable
    {
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        private int _used;

        public int Capacity { get; } = capacity;

        public ulong FirstSequence { get; private set; } = firstSequence;

        public Chunk Reuse(ulong firstSequence)
        {
            FirstSequence = firstSequence;
            _used = 0;
            return this;
        }

        public int Free => Capacity - _used;

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _used);

        public Span<byte> Reserve(int length)
        {
            var span = _buffer.AsSpan(_used, length);
            _used += length;
            return span;
        }

        public void Dispose()
        {
            if (_buffer is not null)
                ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}

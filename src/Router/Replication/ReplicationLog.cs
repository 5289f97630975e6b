using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router.Replication;

/// <summary>
/// The router's replication log: every write, once, as the frame nodes receive it (a
/// <see cref="SequencedWrite"/>), in sequence order. Appended by the <see cref="WriteSequencer"/>
/// under its lock; each node's <see cref="NodeSender"/> streams it from its own
/// <see cref="LogCursor"/> without that lock, so live writes and catch-up replay are one path.
/// Retains about <c>capacity</c> bytes of recent writes for returning nodes; a segment a cursor
/// still needs is never evicted (the health monitor drops a node that pins too much).
/// </summary>
internal sealed class ReplicationLog
{
    private readonly long _capacity;
    private readonly int _segmentSize;
    private LogSegment _head;
    private LogSegment _tail;
    private LogSegment? _spare;
    private long _bytes;
    private ulong _newest;

    public ReplicationLog(long capacityBytes, ulong startSequence = 0)
    {
        _capacity = Math.Max(capacityBytes, 4096);
        _segmentSize = (int)Math.Clamp(_capacity / 8, 4096, 1024 * 1024);
        _head = _tail = new LogSegment(_segmentSize);
        _bytes = _segmentSize;
        _newest = startSequence;
    }

    /// <summary>The last sequence appended (or the start sequence).</summary>
    public ulong NewestSequence => Volatile.Read(ref _newest);

    /// <summary>The oldest sequence still held; above <see cref="NewestSequence"/> when nothing is.</summary>
    public ulong OldestSequence => _head.FirstSequence == 0 ? NewestSequence + 1 : _head.FirstSequence;

    public long Bytes => Volatile.Read(ref _bytes);

    public long Capacity => _capacity;

    /// <summary>Every byte ever appended: a cursor's <see cref="LogCursor.Position"/> below it is what its node has not been sent.</summary>
    public long AppendedBytes => Volatile.Read(ref _appended);

    private long _appended;

    /// <summary>Appends one write (caller holds the sequencer lock and passes the next sequence).</summary>
    public void Append(Opcode opcode, ulong requestId, ulong sequence, long time, in ReadOnlySequence<byte> clientBody)
    {
        var length = SequencedWrite.FrameLength((int)clientBody.Length);
        var segment = _tail;
        if (segment.Free < length)
            segment = AddSegment(length);
        SequencedWrite.Write(segment.Reserve(length), opcode, FrameFlags.None, requestId, sequence, time, clientBody);
        segment.Commit(length, sequence);
        Volatile.Write(ref _appended, _appended + length);
        Volatile.Write(ref _newest, sequence);
    }

    /// <summary>True when every write after <paramref name="sequence"/> is still held (a node there can be replayed).</summary>
    public bool Covers(ulong sequence) => sequence <= NewestSequence && sequence + 1 >= OldestSequence;

    /// <summary>A cursor just after <paramref name="sequence"/> (caller holds the sequencer lock; <see cref="Covers"/> must hold).</summary>
    public LogCursor OpenCursorAfter(ulong sequence)
    {
        if (!Covers(sequence))
            throw new InvalidOperationException($"the log holds {OldestSequence}..{NewestSequence}, not the writes after {sequence}");
        for (var segment = _head; ; segment = segment.Next!)
        {
            if (segment.Next is null || segment.LastSequence > sequence)
                return new LogCursor(segment, OffsetAfter(segment, sequence), sequence);
        }
    }

    /// <summary>A cursor at the end: the node will be sent every write appended from now on.</summary>
    public LogCursor OpenCursorAtEnd() => new(_tail, _tail.Committed, NewestSequence);

    /// <summary>Forgets everything and continues from <paramref name="sequence"/> (adoption, before any cursor exists).</summary>
    public void Reset(ulong sequence)
    {
        for (var segment = _head.Next; segment is not null; segment = segment.Next)
            segment.Release();
        _head.Reset();
        _head.StartPosition = _appended;
        _tail = _head;
        _bytes = _head.Capacity;
        Volatile.Write(ref _newest, sequence);
    }

    private static int OffsetAfter(LogSegment segment, ulong sequence)
    {
        var bytes = segment.Bytes(0, segment.Committed);
        var position = 0;
        while (position < bytes.Length && SequencedWrite.TryReadSequence(bytes[position..], out var held) && held <= sequence)
            position += FrameHeader.Read(bytes[position..]).BodyLength + ProtocolLimits.HeaderSize;
        return position;
    }

    private LogSegment AddSegment(int length)
    {
        var segment = length <= _segmentSize && _spare is not null ? _spare.Reset() : new LogSegment(Math.Max(_segmentSize, length));
        if (segment == _spare)
            _spare = null;
        segment.StartPosition = _appended;
        _tail.Seal(segment);
        _tail = segment;
        Interlocked.Add(ref _bytes, segment.Capacity);
        Trim();
        return segment;
    }

    /// <summary>Evicts the oldest segments beyond the capacity that no cursor stands in.</summary>
    private void Trim()
    {
        while (_bytes > _capacity && _head != _tail && _head.Readers == 0)
        {
            var evicted = _head;
            _head = evicted.Next!;
            Interlocked.Add(ref _bytes, -evicted.Capacity);
            // Once full, the log recycles its oldest segment: steady-state writes allocate nothing.
            if (evicted.Capacity == _segmentSize && _spare is null)
                _spare = evicted;
            else
                evicted.Release();
        }
    }
}

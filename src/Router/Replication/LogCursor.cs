using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router.Replication;

/// <summary>
/// A node sender's position in the <see cref="ReplicationLog"/>. Copies whole runs of committed
/// frames at once (one copy per segment, not per write) and keeps the last sequence passed.
/// Used by one sender at a time, under that sender's lock.
/// </summary>
internal sealed class LogCursor
{
    private LogSegment? _segment;
    private int _offset;
    private ulong _sequence;

    public LogCursor(LogSegment segment, int offset, ulong sequence)
    {
        _segment = segment;
        _offset = offset;
        _sequence = sequence;
        segment.AddReader();
    }

    /// <summary>Position in the stream of every byte ever appended (see <see cref="ReplicationLog.AppendedBytes"/>).</summary>
    public long Position => _segment is { } segment ? segment.StartPosition + _offset : _closedPosition;

    private long _closedPosition;

    /// <summary>The last sequence copied out (the node has been sent every write up to it).</summary>
    public ulong Sequence => Volatile.Read(ref _sequence);

    public bool IsClosed => _segment is null;

    /// <summary>
    /// Copies committed frames after the position into <paramref name="output"/>, stopping before the
    /// first frame above <paramref name="untilSequence"/>, or once about <paramref name="maxBytes"/> went out.
    /// Returns the bytes copied.
    /// </summary>
    public long CopyTo(IBufferWriter<byte> output, ulong untilSequence = ulong.MaxValue, long maxBytes = long.MaxValue)
    {
        long copied = 0;
        while (_segment is { } segment && copied < maxBytes)
        {
            // Next before Committed: once a segment is seen sealed, the committed length read after is final.
            var next = segment.Next;
            var committed = segment.Committed;
            if (_offset < committed)
            {
                var end = FrameRunEnd(segment, committed, untilSequence, maxBytes - copied, out var last);
                if (end > _offset)
                {
                    output.Write(segment.Bytes(_offset, end));
                    copied += end - _offset;
                    _offset = end;
                    Volatile.Write(ref _sequence, last);
                }
                if (end < committed)
                    break; // stopped at untilSequence or maxBytes
                continue;
            }
            if (next is null)
                break;
            next.AddReader();
            segment.RemoveReader();
            _segment = next;
            _offset = 0;
        }
        return copied;
    }

    /// <summary>Walks frame headers from the position: where the run to copy ends, and its last sequence.</summary>
    private int FrameRunEnd(LogSegment segment, int committed, ulong untilSequence, long budget, out ulong last)
    {
        last = _sequence;
        var position = _offset;
        var bytes = segment.Bytes(0, committed);
        while (position < committed && position - _offset < budget)
        {
            var frame = bytes[position..];
            var length = ProtocolLimits.HeaderSize + FrameHeader.Read(frame).BodyLength;
            SequencedWrite.TryReadSequence(frame, out var sequence);
            if (sequence > untilSequence)
                break;
            last = sequence;
            position += length;
        }
        return position;
    }

    /// <summary>Lets the log evict what this cursor held (the sender is gone).</summary>
    public void Close()
    {
        _closedPosition = Position;
        _segment?.RemoveReader();
        _segment = null;
    }
}

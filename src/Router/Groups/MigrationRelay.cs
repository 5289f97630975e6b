using System.Buffers;
using KvnDb.Protocol;
using KvnDb.Router.Replication;

namespace KvnDb.Router.Groups;

/// <summary>
/// Carries a migration's writes from the source group's log to the target's: a cursor in the source's log, opened at
/// the position where the donor starts its snapshot, copies out each write on the moving slots (the lane of the
/// routing map) and appends it to the target's log, in the source's order, with the source's time. So the target's
/// nodes see the source's stream of the moving slots, and the copy's chunks are put into that stream at exactly the
/// points where the donor read them (<see cref="HoldAfter"/>: while a chunk is asked for, nothing after the donor's
/// position is carried over; the chunk is appended, then the relay goes on). Every write is sequenced once, in the
/// source; the target's copy needs no acknowledgement of its own until the switch, whose barrier waits for all of it.
/// Lock order: this relay's lock, then the source's sequencer lock, then the target's.
/// </summary>
internal sealed class MigrationRelay : IDisposable
{
    private const int BytesPerPass = 4 << 20;

    private readonly Lock _lock = new();
    private readonly ReplicaGroup _to;
    private readonly SlotMap _routes;
    private readonly int _lane;
    private readonly ArrayBufferWriter<byte> _scratch = new();
    private readonly LogCursor _cursor;
    private ulong _limit = ulong.MaxValue;
    private long _relayed;

    /// <summary>Opens the relay at the end of the source's log (caller holds the source's sequencer lock).</summary>
    public MigrationRelay(ReplicaGroup from, ReplicaGroup to, SlotMap routes, int lane)
    {
        _to = to;
        _routes = routes;
        _lane = lane;
        _cursor = from.Sequencer.Log.OpenCursorAtEnd();
    }

    /// <summary>Taken before the source's sequencer lock, around asking for a chunk and around appending it.</summary>
    public Lock SyncRoot => _lock;

    /// <summary>Writes carried to the target so far.</summary>
    public long Relayed => Volatile.Read(ref _relayed);

    /// <summary>The source's last sequence carried over.</summary>
    public ulong Position => _cursor.Sequence;

    /// <summary>
    /// A write in the source's log on moving and other slots at once: it was routed by the map before the migration began
    /// and cannot be carried whole. The copy starts over (it then reads the key as that write left it).
    /// </summary>
    public bool NeedsRestart { get; private set; }

    /// <summary>Carries nothing after <paramref name="sequence"/> until <see cref="Release"/> (caller holds <see cref="SyncRoot"/>).</summary>
    public void HoldAfter(ulong sequence) => _limit = sequence;

    /// <summary>Carries everything again (caller holds <see cref="SyncRoot"/>).</summary>
    public void Release() => _limit = ulong.MaxValue;

    /// <summary>Carries what the source's log gained up to the limit.</summary>
    public void Pump()
    {
        lock (_lock)
            PumpLocked();
    }

    /// <summary>Carries what the source's log gained up to the limit (caller holds <see cref="SyncRoot"/>).</summary>
    public void PumpLocked()
    {
        if (_cursor.IsClosed)
            return;
        var appended = false;
        while (true)
        {
            _scratch.ResetWrittenCount();
            if (_cursor.CopyTo(_scratch, _limit, BytesPerPass) == 0)
                break;
            var frames = _scratch.WrittenMemory;
            while (frames.Length >= ProtocolLimits.HeaderSize)
            {
                var header = FrameHeader.Read(frames.Span);
                var frame = frames[..header.FrameLength];
                frames = frames[header.FrameLength..];
                if (!SequencedWrite.TryRead(frame.Span[ProtocolLimits.HeaderSize..], out _, out var time, out var clientBody))
                    continue;
                var group = RequestGroups.Of(header.Opcode, clientBody, _routes);
                if (group == RequestGroups.Several && header.Opcode.IsClientWrite())
                {
                    NeedsRestart = true;
                    continue;
                }
                if (group != _lane)
                    continue;
                var body = frame[(ProtocolLimits.HeaderSize + SequencedWrite.PrefixSize)..];
                _to.Sequencer.AppendRelayed(header.Opcode, time, new ReadOnlySequence<byte>(body));
                Interlocked.Increment(ref _relayed);
                appended = true;
            }
        }
        if (appended)
        {
            var flush = new FlushSet();
            flush.LogAppended(_to.Nodes);
            flush.FlushAll();
        }
    }

    public void Dispose()
    {
        lock (_lock)
            _cursor.Close();
    }
}

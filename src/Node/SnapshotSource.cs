using System.Buffers;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>
/// A donor's open snapshots, one per sync id. Each SnapshotRead returns the next chunk (at least one
/// record, then up to the byte budget), so the router pulls at the pace of the joiner: a slow joiner
/// never makes anyone buffer the whole store. A chunk never grows past the frame limit, whatever the budget.
/// <para>
/// Every record of a chunk is the key as it is when the chunk is written: the router has the joiner
/// apply the chunk at that same point of the write stream. A scan alone cannot promise the joiner every
/// key it needs, though: a key the joiner evaluated a write against before the scan reached it may be
/// gone (deleted by a time mark) when the scan gets there. So the donor notes every key written while
/// its scan runs, and once the scan is through, sends each of them again as it is then: a record, or a
/// tombstone (sequence 0) when the key is absent.
/// </para>
/// </summary>
internal sealed class SnapshotSource(IStorageEngine engine, int maxFrameSize) : IDisposable
{
    private const int MaxOpenSnapshots = 16;

    /// <summary>
    /// A snapshot not read for this long was abandoned by the router (its joiner left): closed, so its scan no
    /// longer holds the log's compaction off. Should the sync still be running, its next read starts a new scan,
    /// which is as exact (every chunk is the keys as they are when it is read), only longer.
    /// </summary>
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(60);

    private readonly Dictionary<ulong, Cursor> _open = [];

    /// <summary>A live write changed the key (called by the store for every change while snapshots are open).</summary>
    public void Touched(ReadOnlySpan<byte> key)
    {
        if (_open.Count == 0)
            return;
        foreach (var cursor in _open.Values)
            cursor.Touched(key);
    }

    /// <param name="output">Where the chunk frame goes.</param>
    /// <param name="requestId">The read's request id.</param>
    /// <param name="syncId">The snapshot: its first read opens it.</param>
    /// <param name="maxBytes">About how many record bytes.</param>
    /// <param name="slots">
    /// A migration's snapshot (<see cref="Opcode.MigrationRead"/>): only keys whose slot is in this <see cref="SlotSet"/>, decided by the
    /// snapshot's first read; empty for a full sync's snapshot (every key).
    /// </param>
    public void WriteNextChunk(IBufferWriter<byte> output, ulong requestId, ulong syncId, int maxBytes, ReadOnlySpan<byte> slots = default)
    {
        if (!_open.TryGetValue(syncId, out var cursor))
        {
            if (_open.Count >= MaxOpenSnapshots)
                Close(_open.Keys.Min()); // the oldest sync was abandoned by the router
            var filter = slots.IsEmpty ? null : slots.ToArray();
            var scan = filter is null ? engine.Scan() : engine.Scan().Where(r => SlotSet.ContainsKey(filter, r.Key));
            cursor = new Cursor(engine, scan.GetEnumerator(), filter);
            _open[syncId] = cursor;
        }
        cursor.LastReadMs = Environment.TickCount64;
        // A record read ahead for the previous chunk is read again: the chunk is the keys as they are now.
        cursor.Refresh();

        var records = new List<StoredRecord>();
        var bytes = 0;
        while (bytes < maxBytes && cursor.TryPeek(out var record))
        {
            var size = SnapshotChunkHeader.RecordSize(record.Key.Length, record.Value.Length);
            // The record waits for the next chunk rather than make this one too large for the router to read.
            if (records.Count > 0 && (long)SnapshotChunkHeader.Size + bytes + size > maxFrameSize)
                break;
            cursor.Take();
            records.Add(record);
            bytes += size;
        }
        var done = cursor.IsDone;
        if (done)
            Close(syncId);

        var chunk = new SnapshotChunkWriter(output, requestId, new SnapshotChunkHeader(done, (ulong)Math.Max(0, engine.Count), (uint)records.Count), bytes,
            slots.IsEmpty ? Opcode.SnapshotRead : Opcode.MigrationRead);
        foreach (var record in records)
            chunk.Add(record.Key, record.Value.Span, record.Sequence, record.ExpiresAt);
        chunk.Complete();
    }

    /// <summary>Closes the snapshots the router stopped reading (called on the link's idle pings).</summary>
    public void CloseIdle()
    {
        if (_open.Count == 0)
            return;
        var now = Environment.TickCount64;
        foreach (var syncId in _open.Where(open => now - open.Value.LastReadMs > IdleLimit.TotalMilliseconds).Select(open => open.Key).ToList())
            Close(syncId);
    }

    /// <summary>The link ended: every snapshot it served is closed.</summary>
    public void Dispose()
    {
        foreach (var cursor in _open.Values)
            cursor.Dispose();
        _open.Clear();
    }

    private void Close(ulong syncId)
    {
        if (_open.Remove(syncId, out var cursor))
            cursor.Dispose();
    }

    /// <param name="engine">The store scanned.</param>
    /// <param name="records">The scan (filtered by slot for a migration).</param>
    /// <param name="slots">A migration's slots: only their keys are noted as touched (and sent again); null for every key.</param>
    private sealed class Cursor(IStorageEngine engine, IEnumerator<StoredRecord> records, byte[]? slots) : IDisposable
    {
        public long LastReadMs { get; set; }

        private HashSet<byte[]>? _touched = new(ByteArrayComparer.Instance);
        private Queue<byte[]>? _again;
        private StoredRecord _next;
        private bool _hasNext;
        private bool _scanned;

        public bool IsDone { get; private set; }

        /// <summary>Noted while the scan runs; afterwards every later write is evaluated by the joiner against keys it holds exactly.</summary>
        public void Touched(ReadOnlySpan<byte> key)
        {
            if (_touched is { } touched && (slots is null || SlotSet.ContainsKey(slots, key)) && !touched.GetAlternateLookup<ReadOnlySpan<byte>>().Contains(key))
                touched.Add(key.ToArray());
        }

        /// <summary>The next record without taking it; false (and done) at the end.</summary>
        public bool TryPeek(out StoredRecord record)
        {
            if (!_hasNext && !IsDone)
            {
                if (!_scanned)
                {
                    _hasNext = records.MoveNext();
                    if (_hasNext)
                        _next = records.Current;
                    else
                        EndScan();
                }
                if (!_hasNext && _again!.TryDequeue(out var key))
                {
                    _next = Read(key);
                    _hasNext = true;
                }
                IsDone = !_hasNext;
            }
            record = _next;
            return _hasNext;
        }

        public void Take()
        {
            _hasNext = false;
            _next = default;
        }

        /// <summary>Re-reads the record held over from the previous chunk.</summary>
        public void Refresh()
        {
            if (_hasNext)
                _next = Read(_next.Key);
        }

        /// <summary>The key as it is now; a tombstone (sequence 0) when it is absent.</summary>
        private StoredRecord Read(byte[] key)
        {
            if (!engine.TryGet(key, out var stored))
                return new StoredRecord(key, ReadOnlyMemory<byte>.Empty, 0);
            using (stored)
                return new StoredRecord(key, stored.Value.ToArray(), stored.Sequence, stored.ExpiresAt);
        }

        private void EndScan()
        {
            _scanned = true;
            _again = new Queue<byte[]>(_touched!);
            _touched = null;
        }

        public void Dispose() => records.Dispose();
    }
}

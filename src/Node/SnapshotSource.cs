using System.Buffers;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>
/// A donor's open snapshots, one per sync id. Each SnapshotRead returns the next chunk (at least one
/// record, then up to the byte budget), so the router pulls at the pace of the joiner: a slow joiner
/// never makes anyone buffer the whole store. A chunk never grows past the frame limit, whatever the budget.
/// </summary>
internal sealed class SnapshotSource(IStorageEngine engine, int maxFrameSize)
{
    private const int MaxOpenSnapshots = 16;
    private readonly Dictionary<ulong, Cursor> _open = [];

    public void WriteNextChunk(IBufferWriter<byte> output, ulong requestId, ulong syncId, int maxBytes)
    {
        if (!_open.TryGetValue(syncId, out var cursor))
        {
            if (_open.Count >= MaxOpenSnapshots)
                _open.Remove(_open.Keys.Min()); // the oldest sync was abandoned by the router
            cursor = new Cursor(engine.Scan().GetEnumerator());
            _open[syncId] = cursor;
        }

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
        {
            cursor.Dispose();
            _open.Remove(syncId);
        }

        var chunk = new SnapshotChunkWriter(output, requestId, new SnapshotChunkHeader(done, (ulong)Math.Max(0, engine.Count), (uint)records.Count), bytes);
        foreach (var record in records)
            chunk.Add(record.Key, record.Value.Span, record.Sequence, record.ExpiresAt);
        chunk.Complete();
    }

    private sealed class Cursor(IEnumerator<StoredRecord> records) : IDisposable
    {
        private StoredRecord _next;
        private bool _hasNext;

        public bool IsDone { get; private set; }

        /// <summary>The next record without taking it; false (and done) at the end.</summary>
        public bool TryPeek(out StoredRecord record)
        {
            if (!_hasNext && !IsDone)
            {
                _hasNext = records.MoveNext();
                _next = _hasNext ? records.Current : default;
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

        public void Dispose() => records.Dispose();
    }
}

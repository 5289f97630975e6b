using System.Buffers;
using System.Buffers.Binary;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>
/// A donor's open snapshots, one per sync id. Each SnapshotRead returns the next chunk (at least one
/// record, then up to the byte budget), so the router pulls at the pace of the joiner: a slow joiner
/// never makes anyone buffer the whole store.
/// </summary>
internal sealed class SnapshotSource(IStorageEngine engine)
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
        while (bytes < maxBytes && cursor.TryNext(out var record))
        {
            records.Add(record);
            bytes += SyncMessages.RecordSize(record.Key.Length, record.Value.Length);
        }
        var done = cursor.IsDone;
        if (done)
        {
            cursor.Dispose();
            _open.Remove(syncId);
        }

        var bodyLength = SyncMessages.ChunkHeaderSize + bytes;
        var span = output.GetSpan(ProtocolLimits.HeaderSize + bodyLength);
        new FrameHeader(bodyLength, Opcode.SnapshotRead, FrameFlags.Response, StatusCode.Ok, requestId).Write(span);
        span[16] = done ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt64LittleEndian(span[17..], (ulong)Math.Max(0, engine.Count));
        BinaryPrimitives.WriteUInt32LittleEndian(span[25..], (uint)records.Count);
        var offset = ProtocolLimits.HeaderSize + SyncMessages.ChunkHeaderSize;
        foreach (var record in records)
        {
            offset += FrameWriter.WriteField(span[offset..], record.Key);
            offset += FrameWriter.WriteField(span[offset..], record.Value.Span);
            BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], record.Sequence);
            offset += 8;
        }
        output.Advance(offset);
    }

    private sealed class Cursor(IEnumerator<StoredRecord> records) : IDisposable
    {
        public bool IsDone { get; private set; }

        public bool TryNext(out StoredRecord record)
        {
            if (!IsDone && records.MoveNext())
            {
                record = records.Current;
                return true;
            }
            IsDone = true;
            record = default;
            return false;
        }

        public void Dispose() => records.Dispose();
    }
}

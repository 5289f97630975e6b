using FASTER.core;

namespace KvnDb.Node.Storage;

public sealed partial class FasterStorageEngine
{
    /// <summary>
    /// Scans the hybrid log and yields a key when the record scanned is the key's newest and not a
    /// tombstone, so deleted and overwritten keys never appear and nothing but the current record is
    /// held. Records written during the listing are scanned too (the scan extends to the new tail):
    /// like Redis SCAN, a key present throughout appears, a key written meanwhile may appear twice.
    /// </summary>
    public IEnumerable<byte[]> ListKeys(ReadOnlyMemory<byte> prefix)
    {
        foreach (var record in ScanLive(prefix, withValue: false))
            yield return record.Key;
    }

    /// <summary>
    /// The live records whose key starts with <paramref name="prefix"/>, by a scan of the hybrid log that extends
    /// to the tail as it moves. An open scan holds compaction off (it moves records and the scan goes by address).
    /// </summary>
    private IEnumerable<StoredRecord> ScanLive(ReadOnlyMemory<byte> prefix, bool withValue)
    {
        long begin, end;
        lock (_gate)
        {
            ThrowIfDisposed();
            begin = _store.Log.BeginAddress;
            end = _store.Log.TailAddress;
            _openScans++;
        }
        try
        {
            while (begin < end)
            {
                using (var scan = _store.Log.Scan(begin, end, ScanBufferingMode.SinglePageBuffering))
                {
                    while (TryNextLiveRecord(scan, prefix, withValue, out var record))
                        yield return record;
                }
                begin = end;
                lock (_gate)
                    end = _store.Log.TailAddress;
            }
        }
        finally
        {
            lock (_gate)
                _openScans--;
        }
    }

    /// <summary>
    /// The next live record with the prefix. The gate is taken per record scanned, not for the whole search: a
    /// listing on its own task (a prefix that matches nothing in a large store) lets writes in between.
    /// </summary>
    private bool TryNextLiveRecord(IFasterScanIterator<SpanByte, SpanByte> scan, ReadOnlyMemory<byte> prefix, bool withValue, out StoredRecord record)
    {
        while (true)
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                if (!scan.GetNext(out var info))
                    break;
                if (info.Tombstone)
                    continue;
                ref var storedKey = ref scan.GetKey();
                if (!storedKey.AsReadOnlySpan().StartsWith(prefix.Span))
                    continue;
                var probe = default(FasterReadOutput);
                if (!ReadCore(ref storedKey, ref probe, out var latest) || latest != scan.CurrentAddress)
                    continue;
                var key = storedKey.AsReadOnlySpan().ToArray();
                // The scanned record is the newest, so its value is the current one (StoredLayout: header, then value).
                var value = withValue ? scan.GetValue().AsReadOnlySpan()[StoredLayout.HeaderSize(probe.ExpiresAt)..].ToArray() : [];
                record = new StoredRecord(key, value, probe.Sequence, probe.ExpiresAt);
                return true;
            }
        }
        record = default;
        return false;
    }
}

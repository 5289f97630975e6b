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
        long begin, end;
        lock (_gate)
        {
            ThrowIfDisposed();
            begin = _store.Log.BeginAddress;
            end = _store.Log.TailAddress;
        }
        while (begin < end)
        {
            using (var scan = _store.Log.Scan(begin, end, ScanBufferingMode.SinglePageBuffering))
            {
                while (TryNextLiveKey(scan, prefix, out var key))
                    yield return key;
            }
            begin = end;
            lock (_gate)
                end = _store.Log.TailAddress;
        }
    }

    private bool TryNextLiveKey(IFasterScanIterator<SpanByte, SpanByte> scan, ReadOnlyMemory<byte> prefix, out byte[] key)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            while (scan.GetNext(out var info))
            {
                if (info.Tombstone)
                    continue;
                ref var storedKey = ref scan.GetKey();
                if (!storedKey.AsReadOnlySpan().StartsWith(prefix.Span))
                    continue;
                var probe = default(FasterReadOutput);
                if (!ReadCore(ref storedKey, ref probe, out var latest) || latest != scan.CurrentAddress)
                    continue;
                key = storedKey.AsReadOnlySpan().ToArray();
                return true;
            }
        }
        key = [];
        return false;
    }
}

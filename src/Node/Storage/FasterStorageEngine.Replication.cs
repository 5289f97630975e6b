using FASTER.core;

namespace KvnDb.Node.Storage;

public sealed partial class FasterStorageEngine
{
    public bool SetIfNewer(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence) => SetIfNewer(key, value, sequence, 0);

    /// <summary>One read of the stored sequence (no value copy), then the set.</summary>
    public bool SetIfNewer(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        CheckRecordSize(key, value, expiresAt);
        lock (_gate)
        {
            ThrowIfDisposed();
            var probe = default(FasterReadOutput);
            if (ReadCore(key, ref probe, out _) && probe.Sequence >= sequence)
                return false;
            ApplySet(key, value, sequence, expiresAt, log: true);
            return true;
        }
    }

    public bool TryGetVersion(ReadOnlySpan<byte> key, out ulong sequence)
    {
        var probe = default(FasterReadOutput);
        lock (_gate)
        {
            ThrowIfDisposed();
            var found = ReadCore(key, ref probe, out _);
            sequence = found ? probe.Sequence : 0;
            return found;
        }
    }

    /// <summary>
    /// Lowers (or raises) the last sequence to exactly <paramref name="sequence"/>. The write-ahead log keeps
    /// only a mark, replayed as "at least": until the next checkpoint, a crash may recover the higher value,
    /// which is harmless because the node reports no history until the sync that called this is checkpointed.
    /// </summary>
    public void ResetLastSequence(ulong sequence)
    {
        MarkApplied(sequence);
        lock (_gate)
            Volatile.Write(ref _lastSequence, sequence);
    }

    public void MarkApplied(ulong sequence)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_wal is not null)
            {
                var size = WalRecord.Size(0, 0);
                var scratch = Scratch(size);
                WalRecord.Write(scratch, WalRecord.MarkKind, default, sequence, default);
                _wal.Append(scratch.AsSpan(0, size));
            }
            RecordApplied(sequence);
        }
    }

    /// <summary>
    /// Deletes every key and forgets the last sequence, durably: the write-ahead log is emptied first (a
    /// crash then recovers the previous checkpoint, consistent with its own last sequence), then an
    /// empty checkpoint with last sequence 0 is taken. Blocks until both are on disk.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002:Avoid problematic synchronous waits", Justification = "IStorageEngine.Clear is synchronous (a reset, before the node serves, no synchronization context) and must return with both on disk")]
    public void Clear()
    {
        WaitForRunningCheckpointAsync().GetAwaiter().GetResult();
        var keys = ListKeys(ReadOnlyMemory<byte>.Empty).ToList();
        WriteAheadLog? wal;
        lock (_gate)
        {
            ThrowIfDisposed();
            foreach (var key in keys)
                ApplyDelete(key, 0, log: false);
            _count = 0;
            _batchOpen = false;
            Volatile.Write(ref _lastSequence, 0);
            wal = _wal;
            wal?.TruncateUntil(wal.TailAddress);
        }
        wal?.CommitAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        WaitForRunningCheckpointAsync().GetAwaiter().GetResult();
        lock (_gate)
            TryStartCheckpoint(force: true);
        _checkpointTask.GetAwaiter().GetResult();
    }

    /// <summary>Live records in one pass over the log (the value comes from the scanned record, no second lookup).</summary>
    public IEnumerable<StoredRecord> Scan() => ScanLive(ReadOnlyMemory<byte>.Empty, withValue: true);

    /// <summary>Every record with an expiry (no value copied): how the node rebuilds its expiry index at start.</summary>
    public IEnumerable<StoredRecord> ScanExpiring()
    {
        foreach (var record in ScanLive(ReadOnlyMemory<byte>.Empty, withValue: false))
            if (record.ExpiresAt != 0)
                yield return record;
    }
}

using KvnDb.Node.Storage;

namespace KvnDb.Node;

/// <summary>
/// A node's side of a full sync: while syncing, deletes leave tombstones so that an older snapshot
/// record arriving later cannot bring a deleted key back. Tombstones go when the sync ends.
/// </summary>
internal sealed class SyncState
{
    private readonly Dictionary<byte[], ulong> _tombstones = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], ulong>.AlternateLookup<ReadOnlySpan<byte>> _lookup;

    public SyncState() => _lookup = _tombstones.GetAlternateLookup<ReadOnlySpan<byte>>();

    public bool IsSyncing { get; private set; }

    public long RecordsApplied { get; private set; }

    public long RecordsSkipped { get; private set; }

    public void Begin()
    {
        IsSyncing = true;
        _tombstones.Clear();
        RecordsApplied = 0;
        RecordsSkipped = 0;
    }

    public void End()
    {
        IsSyncing = false;
        _tombstones.Clear();
        _tombstones.TrimExcess();
    }

    public void OnDelete(ReadOnlySpan<byte> key, ulong sequence)
    {
        if (IsSyncing)
            _lookup[key] = sequence;
    }

    /// <summary>Applies a snapshot record unless a newer delete or value is already known.</summary>
    public void ApplySnapshotRecord(IStorageEngine engine, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence)
    {
        if (_lookup.TryGetValue(key, out var deletedAt) && deletedAt >= sequence)
        {
            RecordsSkipped++;
            return;
        }
        if (engine.SetIfNewer(key, value, sequence))
            RecordsApplied++;
        else
            RecordsSkipped++;
    }
}

using KvnDb.Node.Commands;
using KvnDb.Node.Storage;

namespace KvnDb.Node;

/// <summary>
/// The node's data as writes and reads see it: the engine, the index of keys that expire, and (while a
/// full sync runs) what the sync knows. Every change to the engine made by a write, a time mark or a
/// sync goes through here, so the expiry index always mirrors the engine. One per node, kept across
/// router links; used from the link's loop only.
/// </summary>
internal sealed class NodeStore : IKeyStore
{
    private readonly List<byte[]> _due = [];
    private long _reads;
    private long _writes;

    public NodeStore(IStorageEngine engine)
    {
        Engine = engine;
        foreach (var record in engine.ScanExpiring())
            Expiry.Set(record.Key, record.ExpiresAt);
    }

    public IStorageEngine Engine { get; }

    /// <summary>Read requests answered, over every link (read from other threads: metrics).</summary>
    public long Reads => Volatile.Read(ref _reads);

    /// <summary>Writes applied, over every link.</summary>
    public long Writes => Volatile.Read(ref _writes);

    public void CountRead() => Interlocked.Increment(ref _reads);

    public void CountWrite() => Interlocked.Increment(ref _writes);

    public ExpiryIndex Expiry { get; } = new();

    /// <summary>The sync state of the current link (set by its request processor).</summary>
    public SyncState? Sync { get; set; }

    /// <summary>The snapshots this node donates on the current link: told of every key a write changes.</summary>
    public SnapshotSource? Snapshots { get; set; }

    private bool IsSyncing => Sync is { IsSyncing: true };

    public bool TryRead(ReadOnlySpan<byte> key, long now, out StoredValue value)
    {
        if (!Engine.TryGet(key, out value))
            return false;
        if (!StoredLayout.IsExpired(value.ExpiresAt, now) && !IsLeftover(key))
            return true;
        value.Dispose();
        value = default;
        return false;
    }

    public bool TryReadVersion(ReadOnlySpan<byte> key, long now, out ulong version, out long expiresAt)
    {
        if (Engine.TryGetMetadata(key, out version, out expiresAt) && !StoredLayout.IsExpired(expiresAt, now) && !IsLeftover(key))
            return true;
        version = 0;
        expiresAt = 0;
        return false;
    }

    /// <summary>A live key (reads: no value copied).</summary>
    public bool Exists(ReadOnlySpan<byte> key, long now) =>
        Expiry.Count == 0 && !IsSyncing ? Engine.Exists(key) : TryReadVersion(key, now, out _, out _);

    /// <summary>Whether a listed key is live at <paramref name="now"/>.</summary>
    public bool IsListed(ReadOnlySpan<byte> key, long now) => !Expiry.IsExpired(key, now);

    public void Write(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt, ulong sequence)
    {
        Engine.Set(key, value, sequence, expiresAt);
        Expiry.Set(key, expiresAt);
        Sync?.OnLiveSet(key, sequence);
        Snapshots?.Touched(key);
    }

    public bool Delete(ReadOnlySpan<byte> key, long now, ulong sequence)
    {
        // Without expiring keys or a sync, stored means live: the engine's one lookup answers both.
        var live = Expiry.Count == 0 && !IsSyncing ? Engine.Delete(key, sequence) : DeleteChecked(key, now, sequence);
        Expiry.Remove(key);
        Sync?.OnLiveDelete(key, sequence);
        Snapshots?.Touched(key);
        return live;
    }

    private bool DeleteChecked(ReadOnlySpan<byte> key, long now, ulong sequence)
    {
        var live = TryReadVersion(key, now, out _, out _);
        Engine.Delete(key, sequence);
        return live;
    }

    /// <summary>
    /// A time mark at <paramref name="now"/>: deletes every key expired then, at <paramref name="sequence"/>;
    /// returns how many. During a full sync a leftover key is not the mark's to judge: the donor's chunk
    /// or the end of the sync settles it.
    /// </summary>
    public int RemoveExpired(long now, ulong sequence)
    {
        _due.Clear();
        Expiry.CollectDue(now, _due);
        var removed = 0;
        foreach (var key in _due)
        {
            if (IsLeftover(key))
                continue;
            Engine.Delete(key, sequence);
            Expiry.Remove(key);
            Sync?.OnLiveDelete(key, sequence);
            Snapshots?.Touched(key);
            removed++;
        }
        _due.Clear();
        if (removed == 0)
            Engine.MarkApplied(sequence);
        return removed;
    }

    /// <summary>A snapshot record replacing what the node holds (not a live write).</summary>
    public void WriteRecord(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        Engine.Set(key, value, sequence, expiresAt);
        Expiry.Set(key, expiresAt);
    }

    /// <summary>Removes a key the full sync found stale.</summary>
    public void DropRecord(ReadOnlySpan<byte> key, ulong sequence)
    {
        Engine.Delete(key, sequence);
        Expiry.Remove(key);
    }

    private bool IsLeftover(ReadOnlySpan<byte> key) => Sync is { IsSyncing: true } sync && sync.IsLeftover(key);
}

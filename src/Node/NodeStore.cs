using KvnDb.Node.Commands;
using KvnDb.Node.Scan;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>
/// The node's data as writes and reads see it: the engine, the index of keys that expire, and (while a
/// full sync runs) what the sync knows. Every change to the engine made by a write, a time mark or a
/// sync goes through here, so the expiry index and the scan index always mirror the engine. One per node, kept across
/// router links; used from the link's loop only.
/// </summary>
internal sealed class NodeStore : IKeyStore
{
    private readonly List<byte[]> _due = [];
    private long _reads;
    private long _writes;

    /// <summary>Stored keys of databases 1 to 15 (<see cref="DatabaseKeys"/>); database 0 is the rest of the engine's count.</summary>
    private readonly long[] _databaseCounts = new long[DatabaseKeys.Count];

    public NodeStore(IStorageEngine engine)
    {
        Engine = engine;
        foreach (var record in engine.ScanExpiring())
            Expiry.Set(record.Key, record.ExpiresAt);
        CountDatabases();
        foreach (var key in engine.ListKeys(ReadOnlyMemory<byte>.Empty))
            Keys.Add(key);
    }

    /// <summary>Every stored key in scan order (SCAN pages, <see cref="Opcode.ScanKeys"/>).</summary>
    public KeyScanIndex Keys { get; } = new();

    /// <summary>The keys stored for one database (or all): O(1), expired keys not yet removed included, as Redis's DBSIZE.</summary>
    public long KeyCount(byte database)
    {
        if (database == DatabaseKeys.All)
            return Engine.Count;
        if (database != 0)
            return _databaseCounts[database];
        var count = Engine.Count;
        for (var i = 1; i < DatabaseKeys.Count; i++)
            count -= _databaseCounts[i];
        return Math.Max(0, count);
    }

    /// <summary>The keys stored for one database (or all), less those whose slot is in <paramref name="excludedSlots"/> (empty: none).</summary>
    public long KeyCount(byte database, ReadOnlySpan<byte> excludedSlots)
    {
        var count = KeyCount(database);
        if (excludedSlots.IsEmpty)
            return count;
        if (database != DatabaseKeys.All)
            return Math.Max(0, count - Keys.CountInSlots(database, excludedSlots));
        for (var i = 0; i < DatabaseKeys.Count; i++)
            count -= Keys.CountInSlots(i, excludedSlots);
        return Math.Max(0, count);
    }

    /// <summary>
    /// FLUSHDB and FLUSHALL: deletes every key of the database (or all) at <paramref name="sequence"/>. The keys
    /// are listed first, then deleted, so the listing never runs over keys it is removing.
    /// </summary>
    public void Flush(byte database, long now, ulong sequence)
    {
        var prefix = database is 0 or DatabaseKeys.All ? ReadOnlyMemory<byte>.Empty : DatabasePrefix(database);
        var keys = new List<byte[]>();
        foreach (var key in Engine.ListKeys(prefix))
        {
            if (database == DatabaseKeys.All || DatabaseKeys.DatabaseOf(key) == database)
                keys.Add(key);
        }
        foreach (var key in keys)
            Delete(key, now, sequence);
        Engine.MarkApplied(sequence);
    }

    /// <summary>
    /// A migration's FlushSlots: deletes every key whose slot is in <paramref name="slots"/> (a <see cref="SlotSet"/>) at
    /// <paramref name="sequence"/>, listed first, then deleted, like <see cref="Flush"/>.
    /// </summary>
    public void FlushSlots(ReadOnlySpan<byte> slots, long now, ulong sequence)
    {
        if (slots.IndexOfAnyExcept((byte)0) >= 0)
        {
            var keys = new List<byte[]>();
            foreach (var key in Engine.ListKeys(ReadOnlyMemory<byte>.Empty))
                if (SlotSet.ContainsKey(slots, key))
                    keys.Add(key);
            foreach (var key in keys)
                Delete(key, now, sequence);
        }
        Engine.MarkApplied(sequence);
    }

    /// <summary>
    /// One record of a migration chunk, applied as a write at <paramref name="sequence"/> (the chunk's place in this
    /// group's log is the point of the source group's stream where the donor read it): the key becomes exactly the
    /// record (its value and expiry), or is deleted when the donor no longer held it (<paramref name="present"/> false).
    /// </summary>
    public void ApplyMigrated(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool present, long expiresAt, long now, ulong sequence)
    {
        if (present)
            Write(key, value, expiresAt, sequence);
        else
            Delete(key, now, sequence);
    }

    private static byte[] DatabasePrefix(int database)
    {
        var prefix = new byte[DatabaseKeys.PrefixSize];
        DatabaseKeys.WritePrefix(prefix, database);
        return prefix;
    }

    private void CountDatabases()
    {
        Array.Clear(_databaseCounts);
        var marker = DatabaseKeys.Marker.ToArray();
        foreach (var key in Engine.ListKeys(marker))
            _databaseCounts[DatabaseKeys.DatabaseOf(key)]++;
        _databaseCounts[0] = 0;
    }

    /// <summary>Before a namespaced key is stored: count it when it is new (plain keys need no lookup, the engine counts them).</summary>
    private void CountSet(ReadOnlySpan<byte> key)
    {
        var database = DatabaseKeys.DatabaseOf(key);
        if (database != 0 && !Engine.TryGetMetadata(key, out _, out _))
            _databaseCounts[database]++;
    }

    /// <summary>After the engine deleted a key (every path that deletes comes here): counts and the scan index follow.</summary>
    private void CountDeleted(ReadOnlySpan<byte> key, bool existed)
    {
        if (!existed)
            return;
        Keys.Remove(key);
        var database = DatabaseKeys.DatabaseOf(key);
        if (database != 0)
            _databaseCounts[database]--;
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
        Store(key, value, sequence, expiresAt);
        Sync?.OnLiveSet(key, sequence);
        Snapshots?.Touched(key);
    }

    public bool Delete(ReadOnlySpan<byte> key, long now, ulong sequence)
    {
        // Without expiring keys or a sync, stored means live: the engine's one lookup answers both.
        bool live;
        if (Expiry.Count == 0 && !IsSyncing)
        {
            live = Engine.Delete(key, sequence);
            CountDeleted(key, live);
        }
        else
        {
            live = DeleteChecked(key, now, sequence);
        }
        Expiry.Remove(key);
        Sync?.OnLiveDelete(key, sequence);
        Snapshots?.Touched(key);
        return live;
    }

    private bool DeleteChecked(ReadOnlySpan<byte> key, long now, ulong sequence)
    {
        var live = TryReadVersion(key, now, out _, out _);
        CountDeleted(key, Engine.Delete(key, sequence));
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
            CountDeleted(key, Engine.Delete(key, sequence));
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
    public void WriteRecord(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt) =>
        Store(key, value, sequence, expiresAt);

    /// <summary>Stores the record with its counts, scan index entry and expiry (a live write or a snapshot record alike).</summary>
    private void Store(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        CountSet(key);
        if (Engine.Set(key, value, sequence, expiresAt))
            Keys.Add(key); // a key stored before is in the index already (every store and delete passes here)
        Expiry.Set(key, expiresAt);
    }

    /// <summary>Removes a key the full sync found stale.</summary>
    public void DropRecord(ReadOnlySpan<byte> key, ulong sequence)
    {
        CountDeleted(key, Engine.Delete(key, sequence));
        Expiry.Remove(key);
    }

    private bool IsLeftover(ReadOnlySpan<byte> key) => Sync is { IsSyncing: true } sync && sync.IsLeftover(key);
}

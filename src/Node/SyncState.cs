using KvnDb.Node.Storage;

namespace KvnDb.Node;

/// <summary>
/// A node's side of a full sync (CONTRACT item 3). A full sync never wipes first: the node keeps its
/// data while the donor's snapshot streams in beside the live writes. The router delivers each chunk at
/// the exact point of the write stream where the donor read it (the joiner is held there meanwhile), so
/// a snapshot record is the key's state at that point, exactly as the joiner's next write must find it:
/// <list type="bullet">
/// <item>a record replaces what the node holds for the key, unless the node already holds that very
/// version of the current history (a version &lt;= <c>TrustedThrough</c>: the same write, nothing to copy);</item>
/// <item>until a key has been carried by a chunk or written by a live write of this sync, what the node
/// holds for it is a <em>leftover</em> of its old data: a write evaluated against the key (increment,
/// conditional set, a time mark) finds it absent, as the donor finds it unless it carries the key later;</item>
/// <item>at the end, every key that no chunk carried and no live write touched is dropped: it was deleted
/// on the current history, or never written on it.</item>
/// </list>
/// <para>
/// Memory: keys are remembered as 128-bit hashes, not as keys. The snapshot's set costs about 28 bytes
/// per key the donor holds (a 24-byte entry plus a 4-byte bucket), up to twice that just after the set
/// doubled: 28 to 56 MB per million keys. The live set costs about 36 bytes per key written during the
/// sync. Both are released when the sync ends. (Not sized up front from the donor's key count: that
/// number comes off the wire, and a node allocates in proportion to what it receives, never to what a frame claims.)
/// </para>
/// </summary>
internal sealed class SyncState
{
    /// <summary>Keys touched by a live write of this sync: 0 after a set, the sequence of the delete after a delete.</summary>
    private readonly Dictionary<KeyHash, ulong> _live = [];
    private readonly HashSet<KeyHash> _snapshotKeys = [];
    private ulong _highestLive;

    public bool IsSyncing { get; private set; }

    public ulong TrustedThrough { get; private set; }

    public ulong LiveAfter { get; private set; }

    /// <summary>Records written because the node had nothing newer for the key.</summary>
    public long RecordsApplied { get; private set; }

    /// <summary>Records that replaced another record the node held for the key.</summary>
    public long RecordsReplaced { get; private set; }

    /// <summary>Records the node already held (the same version of the current history).</summary>
    public long RecordsSkipped { get; private set; }

    /// <summary>
    /// Starts a full sync. A new SyncBegin on a link that is already syncing (another donor) starts the
    /// snapshot over but keeps what the link established: keys written live, and keys a chunk already
    /// carried (exact as of that chunk, and kept exact by the live writes since).
    /// </summary>
    public void Begin(ulong trustedThrough, ulong liveAfter)
    {
        if (!IsSyncing)
        {
            _live.Clear();
            _snapshotKeys.Clear();
            _highestLive = 0;
        }
        IsSyncing = true;
        TrustedThrough = trustedThrough;
        LiveAfter = liveAfter;
        RecordsApplied = 0;
        RecordsReplaced = 0;
        RecordsSkipped = 0;
    }

    /// <summary>A live write set the key (call after applying it).</summary>
    public void OnLiveSet(ReadOnlySpan<byte> key, ulong sequence)
    {
        if (!IsSyncing)
            return;
        _live[KeyHash.Of(key)] = 0;
        _highestLive = Math.Max(_highestLive, sequence);
    }

    /// <summary>A live write deleted the key (call after applying it): a tombstone until the sync ends.</summary>
    public void OnLiveDelete(ReadOnlySpan<byte> key, ulong sequence)
    {
        if (!IsSyncing)
            return;
        _live[KeyHash.Of(key)] = Math.Max(sequence, 1);
        _highestLive = Math.Max(_highestLive, sequence);
    }

    /// <summary>Leftover of the node's old data: neither carried by a chunk nor written live in this sync.</summary>
    public bool IsLeftover(ReadOnlySpan<byte> key)
    {
        if (!IsSyncing)
            return false;
        var hash = KeyHash.Of(key);
        return !_snapshotKeys.Contains(hash) && !_live.ContainsKey(hash);
    }

    /// <summary>Applies one snapshot record by the rules above.</summary>
    public void ApplySnapshotRecord(NodeStore store, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        _snapshotKeys.Add(KeyHash.Of(key));
        if (sequence == 0)
        {
            // A tombstone: the donor wrote this key during its scan and it is absent now.
            if (store.Engine.TryGetMetadata(key, out _, out _))
            {
                store.DropRecord(key, store.Engine.LastSequence);
                RecordsReplaced++;
            }
            else
            {
                RecordsSkipped++;
            }
            return;
        }
        if (!store.Engine.TryGetMetadata(key, out var stored, out var storedExpiry))
        {
            store.WriteRecord(key, value, sequence, expiresAt);
            RecordsApplied++;
        }
        else if (stored == sequence && stored <= TrustedThrough && storedExpiry == expiresAt)
        {
            RecordsSkipped++;
        }
        else
        {
            store.WriteRecord(key, value, sequence, expiresAt);
            RecordsReplaced++;
        }
    }

    /// <summary>
    /// Ends the sync at <paramref name="sequence"/>: drops every key the snapshot did not carry and no
    /// live write touched, sets the engine's last sequence to exactly where the node now is on the
    /// current history (kept records of a divergent history may have carried higher ones), and forgets
    /// the sets. Returns the number of keys dropped.
    /// </summary>
    public long End(NodeStore store, ulong sequence)
    {
        if (!IsSyncing)
            return 0;
        var engine = store.Engine;
        // Collected first: deleting while the engine lists its keys would change what it lists.
        var stale = new List<byte[]>();
        foreach (var key in engine.ListKeys(ReadOnlyMemory<byte>.Empty))
        {
            var hash = KeyHash.Of(key);
            if (!_snapshotKeys.Contains(hash) && !_live.ContainsKey(hash))
                stale.Add(key);
        }
        foreach (var key in stale)
            store.DropRecord(key, sequence);
        engine.ResetLastSequence(Math.Max(sequence, _highestLive));
        Abandon();
        return stale.Count;
    }

    /// <summary>Forgets the sync without touching the data (the link dropped; the next join starts a new sync).</summary>
    public void Abandon()
    {
        IsSyncing = false;
        _live.Clear();
        _live.TrimExcess();
        _snapshotKeys.Clear();
        _snapshotKeys.TrimExcess();
        _highestLive = 0;
    }
}

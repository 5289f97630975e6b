using KvnDb.Node.Storage;

namespace KvnDb.Node;

/// <summary>
/// A node's side of a full sync (CONTRACT item 3). A full sync never wipes first: the node keeps its
/// data while the donor's snapshot streams in beside the live writes, and judges each snapshot record
/// against what it holds for the key:
/// <list type="bullet">
/// <item>a key that a live write of this sync touched (every live write is above <c>LiveAfter</c>): the live
/// write stands unless the record is newer; a live delete leaves a tombstone with its sequence, so an
/// older record cannot bring the key back;</item>
/// <item>a stored version &lt;= <c>TrustedThrough</c> (written on the current history): newer wins;</item>
/// <item>any other stored version (a divergent history, whatever its sequence): the donor's record replaces it;</item>
/// <item>no stored record: applied.</item>
/// </list>
/// At the end, every key that the snapshot did not carry and no live write touched is dropped: it was
/// deleted on the current history, or never written on it.
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

    /// <summary>Records that replaced a stored record of a divergent history (version above TrustedThrough).</summary>
    public long RecordsReplaced { get; private set; }

    /// <summary>Records that lost to what the node held (same or newer version, a live write, a tombstone).</summary>
    public long RecordsSkipped { get; private set; }

    /// <summary>
    /// Starts a full sync. A new SyncBegin on a link that is already syncing (another donor) starts the
    /// snapshot over but keeps what the live writes of the link established: those writes were applied
    /// and stay newer than any older record the new donor sends.
    /// </summary>
    public void Begin(ulong trustedThrough, ulong liveAfter)
    {
        if (!IsSyncing)
        {
            _live.Clear();
            _highestLive = 0;
        }
        IsSyncing = true;
        TrustedThrough = trustedThrough;
        LiveAfter = liveAfter;
        _snapshotKeys.Clear();
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

    /// <summary>Applies one snapshot record by the rules above.</summary>
    public void ApplySnapshotRecord(IStorageEngine engine, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence)
    {
        var hash = KeyHash.Of(key);
        _snapshotKeys.Add(hash);
        if (_live.TryGetValue(hash, out var deletedAt))
        {
            if (deletedAt >= sequence)
                RecordsSkipped++;
            else if (engine.SetIfNewer(key, value, sequence))
                RecordsApplied++;
            else
                RecordsSkipped++;
            return;
        }
        if (!engine.TryGetVersion(key, out var stored))
        {
            engine.Set(key, value, sequence);
            RecordsApplied++;
        }
        else if (stored > TrustedThrough)
        {
            engine.Set(key, value, sequence);
            RecordsReplaced++;
        }
        else if (sequence > stored)
        {
            engine.Set(key, value, sequence);
            RecordsApplied++;
        }
        else
        {
            RecordsSkipped++;
        }
    }

    /// <summary>
    /// Ends the sync at <paramref name="sequence"/>: drops every key the snapshot did not carry and no
    /// live write touched, sets the engine's last sequence to exactly where the node now is on the
    /// current history (kept records of a divergent history may have carried higher ones), and forgets
    /// the sets. Returns the number of keys dropped.
    /// </summary>
    public long End(IStorageEngine engine, ulong sequence)
    {
        if (!IsSyncing)
            return 0;
        // Collected first: deleting while the engine lists its keys would change what it lists.
        var stale = new List<byte[]>();
        foreach (var key in engine.ListKeys(ReadOnlyMemory<byte>.Empty))
        {
            var hash = KeyHash.Of(key);
            if (!_snapshotKeys.Contains(hash) && !_live.ContainsKey(hash))
                stale.Add(key);
        }
        foreach (var key in stale)
            engine.Delete(key, sequence);
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

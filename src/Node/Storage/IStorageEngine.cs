namespace KvnDb.Node.Storage;

/// <summary>
/// What a node needs from storage. Calls come from one thread at a time (the node's link loop),
/// so an engine need not be thread-safe unless it says so. Every write carries the router's
/// sequence (the key's version) and an optional expiry (Unix ms, 0 for none; see <see cref="StoredLayout"/>);
/// the engine keeps both with the value and remembers the highest sequence applied. Engines store
/// expired keys like any other: the node decides what has expired, with the router's time.
/// A new engine is one class implementing this interface plus a line in <see cref="StorageEngineFactory"/>.
/// </summary>
public interface IStorageEngine : IAsyncDisposable
{
    /// <summary>Engine name as given to <c>--engine</c>.</summary>
    string Name { get; }

    /// <summary>Highest sequence applied (0 for an empty store).</summary>
    ulong LastSequence { get; }

    /// <summary>Number of live keys.</summary>
    long Count { get; }

    /// <summary>
    /// The largest record (key + value bytes) the engine can store, announced in the node's hello: the
    /// router refuses larger writes, so every node stores a write or none does. Unbounded by default.
    /// </summary>
    long MaxRecordSize => long.MaxValue;

    bool TryGet(ReadOnlySpan<byte> key, out StoredValue value);

    bool Exists(ReadOnlySpan<byte> key);

    /// <summary>
    /// Stores the key's value; returns whether the key is new (was not stored before). The node's SCAN index learns only
    /// new keys: looking up a key already there was a quarter of a node's CPU under SET load, and the engine knows anyway.
    /// </summary>
    bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt);

    bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence) => Set(key, value, sequence, 0);

    /// <summary>Deletes the key; returns whether it existed. The sequence counts as applied either way.</summary>
    bool Delete(ReadOnlySpan<byte> key, ulong sequence);

    /// <summary>Live keys starting with <paramref name="prefix"/>, streamed (never the whole keyspace at once).</summary>
    IEnumerable<byte[]> ListKeys(ReadOnlyMemory<byte> prefix);

    /// <summary>Completes once every write applied so far is as durable as the engine's durability mode promises.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>Whether the storage takes writes, its checkpoints, free space and failures (docs/storage.md, "When the disk fails").</summary>
    StorageHealth Health { get; }

    // ---- storage failures: defaults for engines that have no more to say ----

    /// <summary>
    /// Called before a write of about <paramref name="bytes"/> (its largest record: key and value of
    /// <paramref name="largestRecord"/> bytes) is applied, so that a write is refused whole, never half applied:
    /// throws <see cref="StorageUnavailableException"/> when the storage refuses writes or cannot hold this one,
    /// and <see cref="ArgumentException"/> when a record is above what the engine can store.
    /// </summary>
    void EnsureWritable(long bytes, long largestRecord)
    {
        if (Health.Refusal is { } why)
            throw new StorageUnavailableException(why);
    }

    /// <summary>
    /// While the storage refuses writes: tries to make it take them again (free space back, a checkpoint that
    /// succeeds, a store reopened after a failed disk write). True once writes are taken; the node then rejoins.
    /// </summary>
    ValueTask<bool> ProbeStorageAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Health.TryRestoreByFreeSpace());

    // ---- replication: defaults built on the members above; engines override when they can do better ----

    /// <summary>Every stored record with its value, sequence and expiry, streamed (snapshots to joining nodes, digests).</summary>
    IEnumerable<StoredRecord> Scan()
    {
        foreach (var key in ListKeys(ReadOnlyMemory<byte>.Empty))
        {
            if (!TryGet(key, out var stored))
                continue;
            using (stored)
                yield return new StoredRecord(key, stored.Value.ToArray(), stored.Sequence, stored.ExpiresAt);
        }
    }

    /// <summary>Every record that has an expiry (values may be left empty): the node rebuilds its expiry index from it at start.</summary>
    IEnumerable<StoredRecord> ScanExpiring() => Scan().Where(r => r.ExpiresAt != 0);

    /// <summary>The stored version (sequence) of the key without copying its value; false when the key is absent.</summary>
    bool TryGetVersion(ReadOnlySpan<byte> key, out ulong sequence) => TryGetMetadata(key, out sequence, out _);

    /// <summary>The stored version and expiry of the key without copying its value; false when the key is absent.</summary>
    bool TryGetMetadata(ReadOnlySpan<byte> key, out ulong sequence, out long expiresAt)
    {
        sequence = 0;
        expiresAt = 0;
        if (!TryGet(key, out var stored))
            return false;
        using (stored)
        {
            sequence = stored.Sequence;
            expiresAt = stored.ExpiresAt;
        }
        return true;
    }

    /// <summary>Applies a snapshot record only if it is newer than what the engine holds for the key.</summary>
    bool SetIfNewer(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        if (TryGetVersion(key, out var stored) && stored >= sequence)
            return false;
        Set(key, value, sequence, expiresAt);
        return true;
    }

    bool SetIfNewer(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence) => SetIfNewer(key, value, sequence, 0);

    /// <summary>Removes every key and forgets the last sequence (a node started with reset, or about to take a full sync).</summary>
    void Clear()
    {
        foreach (var key in ListKeys(ReadOnlyMemory<byte>.Empty).ToList())
            Delete(key, LastSequence);
    }

    /// <summary>
    /// Makes everything applied so far survive a crash (a checkpoint); engines that write through need not do
    /// anything. Throws <see cref="StorageUnavailableException"/> when the checkpoint failed.
    /// </summary>
    Task CheckpointAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Records that every write up to <paramref name="sequence"/> is reflected (end of a sync).</summary>
    void MarkApplied(ulong sequence)
    {
    }

    /// <summary>
    /// Sets the last sequence to exactly <paramref name="sequence"/>, lower than now if need be: the end of a
    /// full sync that kept the node's data, where records of a divergent history may have carried higher
    /// sequences than the history the node now belongs to.
    /// </summary>
    void ResetLastSequence(ulong sequence);

    /// <summary>
    /// True when the engine recovered from a stop that may have lost writes it had acknowledged
    /// (durability <c>none</c> and no clean shutdown) and no sync has completed since: such a store must
    /// never be the source of truth. Engines that lose nothing they acknowledged return false.
    /// </summary>
    bool MayHaveLostWrites => false;

    /// <summary>A sync completed and its data is durable: the store holds every write it acknowledged again.</summary>
    void ConfirmSynced()
    {
    }
}

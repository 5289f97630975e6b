using KvnDb.Node.Storage;

namespace KvnDb.Node.Commands;

/// <summary>
/// A transaction's writes held back until every operation has succeeded: operations read through it
/// (their own earlier writes first, then the store), and <see cref="Commit"/> applies everything to the
/// store at once. Discarded on failure, so a transaction changes all or nothing, on every node alike.
/// Reused between transactions.
/// </summary>
internal sealed class TransactionStage : IKeyStore
{
    private readonly Dictionary<byte[], int> _staged = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly List<Change> _changes = [];
    private NodeStore _store = null!;

    public TransactionStage() => _lookup = _staged.GetAlternateLookup<ReadOnlySpan<byte>>();

    public void Begin(NodeStore store)
    {
        _store = store;
        _staged.Clear();
        _changes.Clear();
    }

    public bool TryRead(ReadOnlySpan<byte> key, long now, out StoredValue value)
    {
        if (!_lookup.TryGetValue(key, out var index))
            return _store.TryRead(key, now, out value);
        var change = _changes[index];
        value = change.Deleted || StoredLayout.IsExpired(change.ExpiresAt, now)
            ? default
            : new StoredValue(change.Value, change.Sequence, expiresAt: change.ExpiresAt);
        return !change.Deleted && !StoredLayout.IsExpired(change.ExpiresAt, now);
    }

    public bool TryReadVersion(ReadOnlySpan<byte> key, long now, out ulong version, out long expiresAt)
    {
        if (!_lookup.TryGetValue(key, out var index))
            return _store.TryReadVersion(key, now, out version, out expiresAt);
        var change = _changes[index];
        var live = !change.Deleted && !StoredLayout.IsExpired(change.ExpiresAt, now);
        version = live ? change.Sequence : 0;
        expiresAt = live ? change.ExpiresAt : 0;
        return live;
    }

    public void Write(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt, ulong sequence) =>
        Stage(key, new Change(key.ToArray(), value.ToArray(), expiresAt, sequence, Deleted: false));

    public bool Delete(ReadOnlySpan<byte> key, long now, ulong sequence)
    {
        var live = TryReadVersion(key, now, out _, out _);
        Stage(key, new Change(key.ToArray(), [], 0, sequence, Deleted: true));
        return live;
    }

    /// <summary>Applies every staged change to the store, in the order the keys were first touched.</summary>
    public void Commit(long now)
    {
        foreach (var change in _changes)
        {
            if (change.Deleted)
                _store.Delete(change.Key, now, change.Sequence);
            else
                _store.Write(change.Key, change.Value, change.ExpiresAt, change.Sequence);
        }
        Discard();
    }

    public void Discard()
    {
        _staged.Clear();
        _changes.Clear();
    }

    private void Stage(ReadOnlySpan<byte> key, Change change)
    {
        if (_lookup.TryGetValue(key, out var index))
        {
            _changes[index] = change;
            return;
        }
        _staged.Add(change.Key, _changes.Count);
        _changes.Add(change);
    }

    private readonly record struct Change(byte[] Key, byte[] Value, long ExpiresAt, ulong Sequence, bool Deleted);
}

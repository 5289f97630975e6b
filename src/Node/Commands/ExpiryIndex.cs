using KvnDb.Node.Storage;

namespace KvnDb.Node.Commands;

/// <summary>
/// The node's keys that have an expiry, by key and by time, mirroring the engine: a time mark finds the
/// keys due without scanning the store, and listings skip expired keys without reading them. Rebuilt
/// from the engine at start (<see cref="IStorageEngine.ScanExpiring"/>). Costs nothing while no key
/// expires: every lookup returns at once on an empty index. Locked: key listings read it from their own tasks
/// while the link's loop writes (<see cref="KeyListings"/>).
/// </summary>
internal sealed class ExpiryIndex
{
    private readonly Dictionary<byte[], long> _byKey = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], long>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly SortedSet<Entry> _byTime = new(EntryComparer.Instance);
    private readonly Lock _lock = new();
    private int _count;

    public ExpiryIndex() => _lookup = _byKey.GetAlternateLookup<ReadOnlySpan<byte>>();

    public int Count => Volatile.Read(ref _count);

    /// <summary>The earliest expiry held (Unix ms), or 0 when no key expires.</summary>
    public long NextDue
    {
        get
        {
            lock (_lock)
                return _byTime.Count == 0 ? 0 : _byTime.Min.ExpiresAt;
        }
    }

    /// <summary>Records the key's expiry after a write (0: it has none).</summary>
    public void Set(ReadOnlySpan<byte> key, long expiresAt)
    {
        if (expiresAt == 0)
        {
            Remove(key);
            return;
        }
        lock (_lock)
            SetLocked(key, expiresAt);
    }

    private void SetLocked(ReadOnlySpan<byte> key, long expiresAt)
    {
        if (_lookup.TryGetValue(key, out var stored, out var previous))
        {
            if (previous == expiresAt)
                return;
            _byTime.Remove(new Entry(previous, stored));
            _byKey[stored] = expiresAt;
            _byTime.Add(new Entry(expiresAt, stored));
            return;
        }
        var copy = key.ToArray();
        _byKey.Add(copy, expiresAt);
        _byTime.Add(new Entry(expiresAt, copy));
        Volatile.Write(ref _count, _byKey.Count);
    }

    public void Remove(ReadOnlySpan<byte> key)
    {
        if (Count == 0)
            return; // the common case, no key expires: no lock
        lock (_lock)
        {
            if (_lookup.Remove(key, out var stored, out var expiresAt))
                _byTime.Remove(new Entry(expiresAt, stored));
            Volatile.Write(ref _count, _byKey.Count);
        }
    }

    public bool IsExpired(ReadOnlySpan<byte> key, long now)
    {
        if (Count == 0)
            return false;
        lock (_lock)
            return _lookup.TryGetValue(key, out var expiresAt) && StoredLayout.IsExpired(expiresAt, now);
    }

    /// <summary>Copies the keys expired at <paramref name="now"/> into <paramref name="due"/>, earliest first.</summary>
    public void CollectDue(long now, List<byte[]> due)
    {
        lock (_lock)
            CollectDueLocked(now, due);
    }

    private void CollectDueLocked(long now, List<byte[]> due)
    {
        foreach (var entry in _byTime)
        {
            if (!StoredLayout.IsExpired(entry.ExpiresAt, now))
                break;
            due.Add(entry.Key);
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _byKey.Clear();
            _byTime.Clear();
            Volatile.Write(ref _count, 0);
        }
    }

    private readonly record struct Entry(long ExpiresAt, byte[] Key);

    private sealed class EntryComparer : IComparer<Entry>
    {
        public static readonly EntryComparer Instance = new();

        public int Compare(Entry x, Entry y)
        {
            var byTime = x.ExpiresAt.CompareTo(y.ExpiresAt);
            return byTime != 0 ? byTime : x.Key.AsSpan().SequenceCompareTo(y.Key);
        }
    }
}

using System.Collections.Concurrent;

namespace KvnDb.Node.Storage;

/// <summary>Memory-only engine: a dictionary keyed by the key bytes. Lost on exit.</summary>
public sealed class RamStorageEngine : IStorageEngine
{
    private readonly ConcurrentDictionary<byte[], Entry> _entries = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private ulong _lastSequence;

    public RamStorageEngine() => _lookup = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();

    public string Name => "ram";

    public StorageHealth Health { get; } = new(directory: null);

    public ulong LastSequence => Volatile.Read(ref _lastSequence);

    public long Count => _entries.Count;

    public bool TryGet(ReadOnlySpan<byte> key, out StoredValue value)
    {
        if (_lookup.TryGetValue(key, out var entry))
        {
            // Stored arrays are never mutated (a set replaces the entry), so handing them out is safe.
            value = new StoredValue(entry.Value, entry.Sequence, expiresAt: entry.ExpiresAt);
            return true;
        }
        value = default;
        return false;
    }

    public bool Exists(ReadOnlySpan<byte> key) => _lookup.ContainsKey(key);

    public bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence) => Set(key, value, sequence, 0);

    public bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        var entry = new Entry(value.ToArray(), sequence, expiresAt);
        var added = _lookup.TryAdd(key, entry);
        if (!added)
            _lookup[key] = entry;
        Volatile.Write(ref _lastSequence, Math.Max(_lastSequence, sequence));
        return added;
    }

    public bool Delete(ReadOnlySpan<byte> key, ulong sequence)
    {
        var existed = _lookup.TryRemove(key, out _, out _);
        Volatile.Write(ref _lastSequence, Math.Max(_lastSequence, sequence));
        return existed;
    }

    public IEnumerable<byte[]> ListKeys(ReadOnlyMemory<byte> prefix)
    {
        foreach (var key in _entries.Keys)
        {
            if (key.AsSpan().StartsWith(prefix.Span))
                yield return key;
        }
    }

    public void Clear()
    {
        _entries.Clear();
        Volatile.Write(ref _lastSequence, 0);
    }

    public void MarkApplied(ulong sequence) => Volatile.Write(ref _lastSequence, Math.Max(_lastSequence, sequence));

    public void ResetLastSequence(ulong sequence) => Volatile.Write(ref _lastSequence, sequence);

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Health.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed record Entry(byte[] Value, ulong Sequence, long ExpiresAt);
}

namespace KvnDb.Node.Storage;

/// <summary>
/// What a node needs from storage. Calls come from one thread at a time (the node's link loop),
/// so an engine need not be thread-safe unless it says so. Every write carries the router's
/// sequence; the engine keeps it with the value and remembers the highest one applied.
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

    bool TryGet(ReadOnlySpan<byte> key, out StoredValue value);

    bool Exists(ReadOnlySpan<byte> key);

    void Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence);

    /// <summary>Deletes the key; returns whether it existed. The sequence counts as applied either way.</summary>
    bool Delete(ReadOnlySpan<byte> key, ulong sequence);

    /// <summary>Live keys starting with <paramref name="prefix"/>, streamed (never the whole keyspace at once).</summary>
    IEnumerable<byte[]> ListKeys(ReadOnlyMemory<byte> prefix);

    /// <summary>Completes once every write applied so far is as durable as the engine's durability mode promises.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}

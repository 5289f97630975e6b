using KvnDb.Node.Storage;

namespace KvnDb.Node.Commands;

/// <summary>
/// The keys as a write being evaluated sees them: the node's store (<see cref="NodeStore"/>), or a
/// transaction's staged view over it (<see cref="TransactionStage"/>). Reads see only live keys: not
/// expired at the write's (router) time, and, during a full sync, not a leftover of the node's old data
/// that the donor has not vouched for.
/// </summary>
internal interface IKeyStore
{
    /// <summary>The live value, version and expiry; dispose the value.</summary>
    bool TryRead(ReadOnlySpan<byte> key, long now, out StoredValue value);

    /// <summary>The live version and expiry, without the value.</summary>
    bool TryReadVersion(ReadOnlySpan<byte> key, long now, out ulong version, out long expiresAt);

    void Write(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt, ulong sequence);

    /// <summary>Removes whatever is stored for the key (live, expired or leftover); returns whether a live key was removed.</summary>
    bool Delete(ReadOnlySpan<byte> key, long now, ulong sequence);
}

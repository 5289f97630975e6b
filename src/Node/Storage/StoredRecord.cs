namespace KvnDb.Node.Storage;

/// <summary>A live record as a snapshot or digest sees it (expiry in Unix ms, 0 when none).</summary>
public readonly record struct StoredRecord(byte[] Key, ReadOnlyMemory<byte> Value, ulong Sequence, long ExpiresAt = 0);

namespace KvnDb.Node.Storage;

/// <summary>A live record as a snapshot or digest sees it.</summary>
public readonly record struct StoredRecord(byte[] Key, ReadOnlyMemory<byte> Value, ulong Sequence);

namespace KvnDb.Node.Storage;

/// <summary>
/// The engine refuses a write because its storage cannot take it (the disk is full, or a write to it
/// failed): the node answers <c>StorageUnavailable</c> and leaves serving until the storage recovers.
/// An <see cref="IOException"/>: it is one, seen from the node.
/// </summary>
public sealed class StorageUnavailableException(string message) : IOException(message);

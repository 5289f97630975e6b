namespace KvnDb.Node.Storage;

/// <summary>A data folder the node must not open: held by another node, or written in a format this build does not read.</summary>
public sealed class DataFolderException(string message) : Exception(message);

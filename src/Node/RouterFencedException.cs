namespace KvnDb.Node;

/// <summary>A router leads an older term than this node has followed: a deposed leader, never served (fencing).</summary>
public sealed class RouterFencedException(string message) : IOException(message);

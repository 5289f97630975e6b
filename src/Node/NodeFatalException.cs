namespace KvnDb.Node;

/// <summary>The router refused the node for a reason that retrying cannot fix (password, version).</summary>
public sealed class NodeFatalException(string message) : Exception(message);

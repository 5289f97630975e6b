namespace KvnDb.Protocol;

/// <summary>
/// One node's line in a cluster digest reply: its number, state, whether it is an in-sync member,
/// how many sequences it lags the router, and its digest (zeros for a <see cref="NodeState.Missing"/> member).
/// </summary>
public readonly record struct NodeDigestEntry(int NodeId, NodeState State, bool InSync, ulong Lag, NodeDigest Digest);

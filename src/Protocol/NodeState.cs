namespace KvnDb.Protocol;

/// <summary>Where a node stands. Only serving nodes take reads; syncing and serving nodes take writes.</summary>
public enum NodeState : byte
{
    Syncing = 0,
    Serving = 1,
    /// <summary>Disconnected (or died before answering).</summary>
    Gone = 2,
}

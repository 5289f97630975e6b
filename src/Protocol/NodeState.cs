namespace KvnDb.Protocol;

/// <summary>Where a node stands. Only serving nodes take reads; syncing and serving nodes take writes.</summary>
public enum NodeState : byte
{
    Syncing = 0,
    Serving = 1,
    /// <summary>Disconnected (or died before answering).</summary>
    Gone = 2,
    /// <summary>Connected but silent past the node timeout: it takes no reads.</summary>
    Suspect = 3,
    /// <summary>An in-sync member that is not connected; its digest is zeros.</summary>
    Missing = 4,
}

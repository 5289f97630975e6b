namespace KvnDb.Router;

/// <summary>Where a node stands. Only serving nodes take reads; syncing and serving nodes take writes.</summary>
public enum NodeState
{
    Syncing,
    Serving,
    Gone,
}

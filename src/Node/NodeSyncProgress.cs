namespace KvnDb.Node;

/// <summary>A node's view of its full sync in progress: snapshot records applied, replacing a divergent one, or skipped as already held.</summary>
public readonly record struct NodeSyncProgress(long Applied, long Replaced, long Skipped)
{
    public long Records => Applied + Replaced + Skipped;
}

namespace KvnDb.Router;

/// <summary>
/// Which write history the cluster follows. Sequences alone cannot tell two histories apart (a write
/// that reached only some nodes before a router crash), so every router start that adopts a node's
/// data begins a new history id, remembering the one it forked from and where. A node's
/// (history, sequence) is a prefix of the current history only if it is on the current history, or on
/// the parent at or before the fork point; any other node needs a full sync.
/// </summary>
internal sealed class ClusterHistory
{
    public Guid Current { get; private set; }

    public Guid Parent { get; private set; }

    public ulong ForkSequence { get; private set; }

    public bool IsAdopted => Current != Guid.Empty;

    /// <summary>Starts a new history continuing the given node's data.</summary>
    public void Adopt(Guid nodeHistory, ulong nodeSequence)
    {
        Parent = nodeHistory;
        ForkSequence = nodeSequence;
        Current = Guid.NewGuid();
    }

    public bool IsPrefix(Guid history, ulong sequence, ulong currentSequence) =>
        (history == Current && sequence <= currentSequence)
        || (history == Parent && sequence <= ForkSequence)
        || (history == Guid.Empty && sequence == 0 && currentSequence == 0);
}

namespace KvnDb.Protocol;

/// <summary>Whether a node's storage takes writes, as carried in <see cref="NodeStatusReport"/>. Wire values: never renumber.</summary>
public enum NodeStorageState : byte
{
    Ok = 0,
    /// <summary>Disk full or failing: the node refuses writes and leaves serving until its storage recovers.</summary>
    RefusingWrites = 1,
}

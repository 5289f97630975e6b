namespace KvnDb.Protocol;

/// <summary>How a node's last checkpoint went, as carried in <see cref="NodeStatusReport"/>. Wire values: never renumber.</summary>
public enum NodeCheckpointState : byte
{
    /// <summary>No checkpoint attempted since the node started (or the engine takes none: ram, dir).</summary>
    None = 0,
    Ok = 1,
    Failed = 2,
}

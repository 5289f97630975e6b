namespace KvnDb.Protocol;

/// <summary>What a node says about its data in its hello (last byte of the body). Clients send <see cref="None"/>.</summary>
[Flags]
public enum NodeHelloFlags : byte
{
    None = 0,
    /// <summary>
    /// The node recovered after an unclean stop with durability <c>none</c> and has not completed a
    /// sync since: it may lack writes it acknowledged, so it must never be a source of truth.
    /// </summary>
    MayHaveLostWrites = 1,
    /// <summary>An in-process node started by the router (<c>--nodes N</c>): its data dies with the router process.</summary>
    Embedded = 2,
    /// <summary>
    /// The operator reset the node (<c>kvndb-node reset</c>) and it has not completed a sync since: its data
    /// waits to be replaced by a donor's snapshot and must never be adopted, not even by a fresh cluster.
    /// </summary>
    Reset = 4,
}

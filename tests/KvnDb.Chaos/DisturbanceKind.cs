namespace KvnDb.Chaos;

/// <summary>The disturbances of a run (<c>--faults</c> names them as <see cref="DisturbanceKinds.Name"/> spells them).</summary>
internal enum DisturbanceKind
{
    /// <summary>SIGKILL a node and start it again on its data.</summary>
    Kill,

    /// <summary>SIGKILL a node, request a reset (<c>kvndb-node reset --data DIR</c>) and start it again: it copies everything from a donor.</summary>
    Reset,

    /// <summary>SIGKILL the router and start it again; the ledger is checked as soon as it serves.</summary>
    RouterKill,

    /// <summary>SIGSTOP a node for 1 to 8 s, then SIGCONT.</summary>
    Freeze,

    /// <summary>SIGSTOP the router for 1 to 8 s, then SIGCONT; the ledger is checked once it serves.</summary>
    RouterFreeze,

    /// <summary>Blackhole one node's link (half-open, nothing closed) for 1 to 8 s, then heal.</summary>
    Cut,

    /// <summary>Blackhole every node's link at once: the router cut from all nodes.</summary>
    CutAll,

    /// <summary>Stop a node (SIGTERM or SIGKILL), keep it down while many writes happen (sometimes across a router restart), bring it back on its data.</summary>
    Late,
}

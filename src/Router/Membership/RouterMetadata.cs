namespace KvnDb.Router.Membership;

/// <summary>
/// What the router keeps on disk (<c>--data DIR</c>): the history the cluster follows, the in-sync
/// set (the nodes that hold every acknowledged write) and the numbers given to known nodes. Small,
/// rewritten whole and fsynced on every change, before any write is acknowledged under the change.
/// With replica groups (docs/architecture.md, "Groups and slots"): the top-level history and in-sync set
/// are those of the group <c>default</c>, every other group's are in <see cref="Groups"/> (an entry of the
/// same shape, its own <see cref="Groups"/>, <see cref="Slots"/> and <see cref="NodeNumbers"/> empty), and
/// <see cref="Slots"/> says which group owns which slot. A file written before groups reads as one group.
/// </summary>
internal sealed record RouterMetadata
{
    /// <summary>Bumped when the file's meaning changes; a router refuses a newer format.</summary>
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    /// <summary>The history the in-sync members are on (<see cref="Guid.Empty"/> before the first adoption).</summary>
    public Guid History { get; init; }

    /// <summary>The history <see cref="History"/> forked from, and the last sequence it took from it.</summary>
    public Guid ParentHistory { get; init; }

    public ulong ForkSequence { get; init; }

    /// <summary>The in-sync set: every member holds every write acknowledged with write concern all.</summary>
    public IReadOnlyList<InSyncMember> Members { get; init; } = [];

    /// <summary>Stable display numbers of every node ever seen (node id to number).</summary>
    public IReadOnlyDictionary<Guid, int> NodeNumbers { get; init; } = new Dictionary<Guid, int>();

    /// <summary>The history and in-sync set of every group but <c>default</c>, by group name.</summary>
    public IReadOnlyDictionary<string, RouterMetadata> Groups { get; init; } = new Dictionary<string, RouterMetadata>();

    /// <summary>The slot map: which group owns each slot, as ranges. Empty: every slot is the group <c>default</c>'s.</summary>
    public IReadOnlyList<KvnDb.Router.Groups.SlotRange> Slots { get; init; } = [];

    /// <summary>The slot migration under way (docs/architecture.md, "Slot migration"), or null.</summary>
    public KvnDb.Router.Groups.MigrationRecord? Migration { get; init; }

    public bool IsMember(Guid nodeId) => Members.Any(m => m.NodeId == nodeId);

    /// <summary>
    /// A node's data (history, last sequence) is a prefix of the current history when it is on it, or
    /// on its parent at or before the fork point.
    /// </summary>
    /// <remarks>Data on no history (a new node, or one interrupted in a full sync) is a prefix only when empty.</remarks>
    public bool IsPrefix(Guid history, ulong sequence, ulong currentSequence) =>
        History != Guid.Empty
        && (history == Guid.Empty
            ? sequence == 0
            : (history == History && sequence <= currentSequence) || (history == ParentHistory && sequence <= ForkSequence));

    /// <summary>How far a node's data can be trusted as part of the current history (0: not at all).</summary>
    public ulong TrustedThrough(Guid history, ulong sequence, ulong currentSequence) =>
        History == Guid.Empty || history == Guid.Empty ? 0
        : history == History ? Math.Min(sequence, currentSequence)
        : history == ParentHistory ? Math.Min(sequence, ForkSequence)
        : 0;
}

/// <summary>
/// One in-sync node. <see cref="Embedded"/>: an in-process node whose data died with its router process.
/// <see cref="MaxRecord"/>: the largest key + value it announced it can store (0 in a file written before
/// limits were recorded: unknown until it connects), remembered so it bounds writes while it is away.
/// </summary>
internal sealed record InSyncMember(Guid NodeId, int Number, bool Embedded, long MaxRecord = 0);

namespace KvnDb.Router.Sync;

/// <summary>A full sync in progress: a joining node pulling a snapshot from a donor, one chunk at a time.</summary>
internal sealed class SyncSession(NodeLink joiner)
{
    public NodeLink Joiner { get; } = joiner;

    /// <summary>The serving in-sync node streaming the snapshot; null while waiting for one.</summary>
    public NodeLink? Donor { get; set; }

    /// <summary>Identifies the donor's cursor; a new id per donor, so a dead donor's late chunks are ignored.</summary>
    public ulong SyncId { get; set; }

    /// <summary>A chunk was sent to the joiner and not yet acknowledged (flow control: at most one).</summary>
    public bool ApplyInFlight { get; set; }

    /// <summary>The donor sent its last chunk.</summary>
    public bool DonorDone { get; set; }

    /// <summary>The log position the donor reads the current chunk at (and where the joiner is held).</summary>
    public ulong ChunkAt { get; set; }

    public long Records { get; set; }

    public long Bytes { get; set; }

    public ulong DonorKeys { get; set; }

    public DateTime StartedAt { get; } = DateTime.UtcNow;

    public DateTime LastProgressLog { get; set; } = DateTime.UtcNow;
}

namespace KvnDb.Node.Storage;

/// <summary>When a write counts as done for the <c>faster</c> engine (<c>--durability</c>).</summary>
public enum DurabilityMode
{
    /// <summary>Acknowledged after the in-memory apply; a crash loses what came after the last checkpoint.</summary>
    None,

    /// <summary>Acknowledged once the write is in the write-ahead log on disk (group-committed per batch).</summary>
    Fsync,
}

namespace KvnDb.Chaos;

/// <summary>What a read of a key says about the ledger.</summary>
internal enum Verdict
{
    /// <summary>The last acknowledged value before the read, or a write overlapping it.</summary>
    Allowed,

    /// <summary>The value of an earlier write whose outcome was unknown, applied after a later acknowledged one: legal, counted.</summary>
    LateIndeterminate,

    /// <summary>An acknowledged write is missing or the key holds a value it never had.</summary>
    Lost,
}

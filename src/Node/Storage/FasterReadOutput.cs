namespace KvnDb.Node.Storage;

/// <summary>What a FASTER read hands back: the stored sequence and expiry and, when asked for, a pooled copy of the value.</summary>
internal struct FasterReadOutput
{
    /// <summary>False for existence checks: the value is not copied.</summary>
    public bool CopyValue;

    public ulong Sequence;

    public long ExpiresAt;

    /// <summary>Log address of the record read (what listing compares with the scanned record's address).</summary>
    public long Address;

    public PooledValueBuffer? Value;
}

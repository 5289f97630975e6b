namespace KvnDb.Node.Storage;

/// <summary>What a FASTER read hands back: the stored sequence and, when asked for, a pooled copy of the value.</summary>
internal struct FasterReadOutput
{
    /// <summary>False for existence checks: the value is not copied.</summary>
    public bool CopyValue;

    public ulong Sequence;

    public PooledValueBuffer? Value;
}

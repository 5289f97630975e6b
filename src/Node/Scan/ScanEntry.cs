namespace KvnDb.Node.Scan;

/// <summary>A key (in its stored form) and its <see cref="ScanOrder"/>.</summary>
internal readonly record struct ScanEntry(ulong Order, byte[] Key)
{
    /// <summary>Order first, key bytes next (two keys of one order are still told apart, always alike).</summary>
    public static int Compare(ulong order, byte[] key, ulong otherOrder, ReadOnlySpan<byte> otherKey) =>
        order != otherOrder ? order.CompareTo(otherOrder) : key.AsSpan().SequenceCompareTo(otherKey);
}

namespace KvnDb.Resp;

/// <summary>Byte-wise (ordinal) order of keys: the order SCAN walks.</summary>
internal sealed class KeyOrder : IComparer<byte[]>
{
    public static readonly KeyOrder Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}

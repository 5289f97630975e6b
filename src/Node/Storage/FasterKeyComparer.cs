using System.IO.Hashing;
using FASTER.core;

namespace KvnDb.Node.Storage;

/// <summary>
/// Key hashing for the FASTER store. FASTER's default SpanByte hash is a weak polynomial: keys that
/// differ in a few bytes (counters, <c>user:1234</c>) crowd into few buckets and share tags, so chains
/// grow long. XxHash3 spreads them. The hash decides where keys sit in the checkpointed index, so it
/// is part of the on-disk format: changing it makes existing stores unreadable.
/// </summary>
internal sealed class FasterKeyComparer : IFasterEqualityComparer<SpanByte>
{
    public static readonly FasterKeyComparer Instance = new();

    public long GetHashCode64(ref SpanByte key) => (long)XxHash3.HashToUInt64(key.AsReadOnlySpan());

    public bool Equals(ref SpanByte first, ref SpanByte second) => first.AsReadOnlySpan().SequenceEqual(second.AsReadOnlySpan());
}

using System.Numerics;

namespace KvnDb.Node.Storage;

/// <summary>
/// How the <c>faster</c> engine splits its memory budget (<c>--memory</c>). The hash index may grow to an
/// eighth of it (64-byte buckets, about two keys each before overflow buckets); it starts sized for the
/// expected key count (<c>--expected-keys</c>, a bucket per two keys) and doubles as the keys outgrow it,
/// so a small store writes small index checkpoints. Two log pages go to the write-ahead log when there is
/// one, and the rest (rounded down to a power of two, as FASTER wants) to the in-memory part of the hybrid
/// log. A record must fit in one page, which bounds the value size.
/// </summary>
internal readonly record struct FasterSizing(long IndexBytes, long MaxIndexBytes, long LogMemoryBytes, long PageBytes, long WalMemoryBytes)
{
    public const long MinimumBudget = 16L << 20;
    public const long DefaultBudget = 512L << 20;
    public const long DefaultExpectedKeys = 64L << 10;

    /// <summary>FASTER's hash bucket: eight 8-byte entries, seven of them tags plus the overflow pointer.</summary>
    public const int BucketBytes = 64;

    /// <summary>The smallest index (1,024 buckets): its checkpoint is 64 KiB.</summary>
    private const long MinimumIndexBytes = 64L << 10;

    /// <summary>Per-record overhead on top of key and value: record header, two length prefixes, the sequence, alignment.</summary>
    public const int RecordOverhead = 64;

    public static FasterSizing FromBudget(long budget, bool withWriteAheadLog, long expectedKeys = DefaultExpectedKeys)
    {
        if (budget < MinimumBudget)
            throw new ArgumentException($"--memory must be at least {MinimumBudget >> 20} MiB for the faster engine (got {budget} bytes)");
        if (expectedKeys < 1)
            throw new ArgumentException($"--expected-keys must be at least 1 (got {expectedKeys})");
        var maxIndex = Math.Clamp(PreviousPowerOfTwo(budget / 8), MinimumIndexBytes, 1L << 30);
        var index = Math.Clamp(NextPowerOfTwo(Math.Max(1, expectedKeys / 2)) * BucketBytes, MinimumIndexBytes, maxIndex);
        var page = PreviousPowerOfTwo(Math.Clamp(budget / 32, 2L << 20, 32L << 20));
        var wal = withWriteAheadLog ? 2 * page : 0;
        var logMemory = PreviousPowerOfTwo(budget - maxIndex - wal);
        return new FasterSizing(index, maxIndex, logMemory, page, wal);
    }

    /// <summary>Largest key + value the store accepts (one record per page).</summary>
    public long MaxRecordPayload => PageBytes - RecordOverhead;

    /// <summary>Keys past which an index of <paramref name="buckets"/> buckets should double (two per bucket, FASTER's rule of thumb).</summary>
    public static long KeysToGrowAt(long buckets) => 2 * buckets;

    private static long PreviousPowerOfTwo(long value) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)value));

    private static long NextPowerOfTwo(long value) => (long)BitOperations.RoundUpToPowerOf2((ulong)value);

    public override string ToString() =>
        $"index {Mib(IndexBytes)} (grows to {Mib(MaxIndexBytes)}), log memory {Mib(LogMemoryBytes)}, page {Mib(PageBytes)}, WAL memory {Mib(WalMemoryBytes)}";

    private static string Mib(long bytes) => bytes >= 1L << 20 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";
}

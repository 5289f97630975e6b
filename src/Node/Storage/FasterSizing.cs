using System.Numerics;

namespace KvnDb.Node.Storage;

/// <summary>
/// How the <c>faster</c> engine splits its memory budget (<c>--memory</c>): an eighth for the hash
/// index (64-byte buckets, about two keys each before overflow buckets), two log pages for the
/// write-ahead log when there is one, and the rest (rounded down to a power of two, as FASTER wants)
/// for the in-memory part of the hybrid log. A record must fit in one page, which bounds the value size.
/// </summary>
internal readonly record struct FasterSizing(long IndexBytes, long LogMemoryBytes, long PageBytes, long WalMemoryBytes)
{
    public const long MinimumBudget = 16L << 20;
    public const long DefaultBudget = 512L << 20;

    /// <summary>Per-record overhead on top of key and value: record header, two length prefixes, the sequence, alignment.</summary>
    private const int RecordOverhead = 64;

    public static FasterSizing FromBudget(long budget, bool withWriteAheadLog)
    {
        if (budget < MinimumBudget)
            throw new ArgumentException($"--memory must be at least {MinimumBudget >> 20} MiB for the faster engine (got {budget} bytes)");
        var index = Math.Clamp(PreviousPowerOfTwo(budget / 8), 64L << 10, 1L << 30);
        var page = PreviousPowerOfTwo(Math.Clamp(budget / 32, 2L << 20, 32L << 20));
        var wal = withWriteAheadLog ? 2 * page : 0;
        var logMemory = PreviousPowerOfTwo(budget - index - wal);
        return new FasterSizing(index, logMemory, page, wal);
    }

    /// <summary>Largest key + value the store accepts (one record per page).</summary>
    public long MaxRecordPayload => PageBytes - RecordOverhead;

    private static long PreviousPowerOfTwo(long value) => 1L << (63 - BitOperations.LeadingZeroCount((ulong)value));

    public override string ToString() =>
        $"index {IndexBytes >> 20} MiB, log memory {LogMemoryBytes >> 20} MiB, page {PageBytes >> 20} MiB, WAL memory {WalMemoryBytes >> 20} MiB";
}

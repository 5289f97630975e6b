using System.Buffers;

namespace KvnDb.Resp;

/// <summary>
/// LCS of two values, as Redis 7 answers it: the subsequence itself, its length, or the matching ranges
/// (walked back from the ends of both strings, longest-first as Redis emits them). The dynamic-programming
/// table is (|a|+1)×(|b|+1) 32-bit cells, so the inputs are bounded before it is allocated.
/// </summary>
internal static class LongestCommonSubsequence
{
    public const int ModeString = 0;
    public const int ModeLength = 1;
    public const int ModeIndexes = 2;

    /// <summary>Cells of the table at most (256 MiB): larger inputs are refused rather than allowed to exhaust memory.</summary>
    public const long MaxCells = 64L * 1024 * 1024;

    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int mode, long minimumMatch, bool withMatchLength, bool resp3)
    {
        if ((long)(a.Length + 1) * (b.Length + 1) > MaxCells)
        {
            RespWriter.WriteError(output, "ERR LCS inputs are too large for KvnDb (the product of their lengths is limited to 64M)");
            return;
        }
        var columns = b.Length + 1;
        var table = new uint[(a.Length + 1) * columns];
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                table[i * columns + j] = a[i - 1] == b[j - 1]
                    ? table[(i - 1) * columns + j - 1] + 1
                    : Math.Max(table[(i - 1) * columns + j], table[i * columns + j - 1]);
            }
        }
        var length = (int)table[a.Length * columns + b.Length];
        if (mode == ModeLength)
        {
            RespWriter.WriteInteger(output, length);
            return;
        }
        var result = new byte[length];
        var ranges = new List<(int AStart, int AEnd, int BStart, int BEnd)>();
        var next = length;
        int x = a.Length, y = b.Length;
        var open = false;
        int aStart = 0, aEnd = 0, bStart = 0, bEnd = 0;
        while (x > 0 && y > 0)
        {
            var emit = false;
            if (a[x - 1] == b[y - 1])
            {
                result[--next] = a[x - 1];
                if (!open)
                {
                    open = true;
                    aStart = aEnd = x - 1;
                    bStart = bEnd = y - 1;
                }
                else if (aStart == x && bStart == y)
                {
                    aStart--;
                    bStart--;
                }
                else
                {
                    emit = true;
                }
                if (aStart == 0 || bStart == 0)
                    emit = true;
                x--;
                y--;
            }
            else
            {
                if (table[(x - 1) * columns + y] > table[x * columns + y - 1])
                    x--;
                else
                    y--;
                if (open)
                    emit = true;
            }
            if (emit && open)
            {
                if (aEnd - aStart + 1 >= minimumMatch)
                    ranges.Add((aStart, aEnd, bStart, bEnd));
                open = false;
            }
        }
        if (mode == ModeString)
        {
            RespWriter.WriteBulk(output, result);
            return;
        }
        RespWriter.WriteMapHeader(output, 2, resp3);
        RespWriter.WriteBulk(output, "matches"u8);
        RespWriter.WriteArrayHeader(output, ranges.Count);
        foreach (var range in ranges)
        {
            RespWriter.WriteArrayHeader(output, withMatchLength ? 3 : 2);
            RespWriter.WriteArrayHeader(output, 2);
            RespWriter.WriteInteger(output, range.AStart);
            RespWriter.WriteInteger(output, range.AEnd);
            RespWriter.WriteArrayHeader(output, 2);
            RespWriter.WriteInteger(output, range.BStart);
            RespWriter.WriteInteger(output, range.BEnd);
            if (withMatchLength)
                RespWriter.WriteInteger(output, range.AEnd - range.AStart + 1);
        }
        RespWriter.WriteBulk(output, "len"u8);
        RespWriter.WriteInteger(output, length);
    }
}

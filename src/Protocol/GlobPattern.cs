namespace KvnDb.Protocol;

/// <summary>
/// Redis glob patterns for KEYS, SCAN MATCH (matched by the nodes) and PSUBSCRIBE: <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[^a]</c>,
/// <c>[a-z]</c> and <c>\x</c>, byte for byte as Redis's stringmatchlen reads them (so <c>[a-]</c> is the range
/// from <c>a</c> to <c>]</c>, leaving the class open to the end). Matched without recursion (backtracking to the last star only), so a
/// hostile pattern costs at most pattern × key steps.
/// </summary>
public static class GlobPattern
{
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text)
    {
        int p = 0, t = 0, starPattern = -1, starText = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == (byte)'*')
            {
                starPattern = ++p;
                starText = t;
                continue;
            }
            if (p < pattern.Length && MatchOne(pattern, p, text[t], out var next))
            {
                p = next;
                t++;
                continue;
            }
            if (starPattern < 0)
                return false;
            // Let the last star swallow one more byte and try again from there.
            p = starPattern;
            t = ++starText;
        }
        while (p < pattern.Length && pattern[p] == (byte)'*')
            p++;
        return p == pattern.Length;
    }

    /// <summary>The bytes before the first special character: every match starts with them (used as the listing prefix).</summary>
    public static ReadOnlySpan<byte> LiteralPrefix(ReadOnlySpan<byte> pattern)
    {
        var special = pattern.IndexOfAny("*?[\\"u8);
        return special < 0 ? pattern : pattern[..special];
    }

    /// <summary>Whether the pattern item at <paramref name="p"/> (not a star) matches one byte; <paramref name="next"/> is the following item.</summary>
    private static bool MatchOne(ReadOnlySpan<byte> pattern, int p, byte c, out int next)
    {
        switch (pattern[p])
        {
            case (byte)'?':
                next = p + 1;
                return true;
            case (byte)'\\' when p + 1 < pattern.Length:
                next = p + 2;
                return pattern[p + 1] == c;
            case (byte)'[':
                return MatchClass(pattern, p + 1, c, out next);
            default:
                next = p + 1;
                return pattern[p] == c;
        }
    }

    private static bool MatchClass(ReadOnlySpan<byte> pattern, int p, byte c, out int next)
    {
        var negate = p < pattern.Length && pattern[p] == (byte)'^';
        if (negate)
            p++;
        var matched = false;
        while (p < pattern.Length && pattern[p] != (byte)']')
        {
            if (pattern[p] == (byte)'\\' && p + 1 < pattern.Length)
            {
                matched |= pattern[p + 1] == c;
                p += 2;
            }
            else if (p + 2 < pattern.Length && pattern[p + 1] == (byte)'-')
            {
                var low = Math.Min(pattern[p], pattern[p + 2]);
                var high = Math.Max(pattern[p], pattern[p + 2]);
                matched |= c >= low && c <= high;
                p += 3;
            }
            else
            {
                matched |= pattern[p] == c;
                p++;
            }
        }
        // An unclosed class runs to the end of the pattern, as in Redis.
        next = p < pattern.Length ? p + 1 : p;
        return matched != negate;
    }
}

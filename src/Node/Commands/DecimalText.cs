using System.Buffers.Text;
using System.Globalization;

namespace KvnDb.Node.Commands;

/// <summary>
/// Numbers stored as decimal text, parsed and printed as Redis does (INCR, INCRBYFLOAT), and identically
/// on every node (the same bytes in give the same bytes out: nodes run the same code).
/// </summary>
internal static class DecimalText
{
    /// <summary>The longest decimal 64-bit integer: "-9223372036854775808".</summary>
    public const int MaxIntegerLength = 20;

    /// <summary>Room for any double printed by <see cref="FormatFloat"/>.</summary>
    public const int MaxFloatLength = 400;

    /// <summary>
    /// Redis's <c>string2ll</c>: an optional '-', then digits without a leading zero (except "0" itself),
    /// no sign '+', no spaces, within 64 bits.
    /// </summary>
    public static bool TryParseInteger(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > MaxIntegerLength)
            return false;
        if (text.Length == 1 && text[0] == (byte)'0')
            return true;
        var negative = text[0] == (byte)'-';
        var digits = negative ? text[1..] : text;
        if (digits.IsEmpty || digits[0] is < (byte)'1' or > (byte)'9')
            return false;
        ulong magnitude = 0;
        foreach (var c in digits)
        {
            if (c is < (byte)'0' or > (byte)'9')
                return false;
            if (magnitude > (ulong.MaxValue - 9) / 10)
                return false;
            magnitude = magnitude * 10 + (ulong)(c - '0');
        }
        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
                return false;
            value = (long)(0 - magnitude);
            return true;
        }
        if (magnitude > long.MaxValue)
            return false;
        value = (long)magnitude;
        return true;
    }

    public static int FormatInteger(long value, Span<byte> destination)
    {
        Utf8Formatter.TryFormat(value, destination, out var written);
        return written;
    }

    /// <summary>
    /// Redis's <c>string2ld</c> on doubles: decimal or exponent notation, an optional sign, no surrounding
    /// spaces, not NaN. (Redis computes in long double; KvnDb in double, the same on every node.)
    /// </summary>
    public static bool TryParseFloat(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > MaxFloatLength)
            return false;
        const NumberStyles Style = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
        if (!double.TryParse(text, Style, CultureInfo.InvariantCulture, out value))
            return false;
        return !double.IsNaN(value);
    }

    /// <summary>
    /// The shortest text that reads back as the same double, in plain notation (no exponent, as Redis
    /// prints INCRBYFLOAT results): "10.6", "3", "-0.0001", "100000000000000000000".
    /// </summary>
    public static int FormatFloat(double value, Span<byte> destination)
    {
        if (value == 0)
            value = 0; // -0 prints as 0
        value.TryFormat(destination, out var written, "R", CultureInfo.InvariantCulture);
        if (destination[..written].IndexOfAny((byte)'E', (byte)'e') < 0)
            return written;
        // Exponent notation: print every digit instead (exact for integers, 17 decimals trimmed for tiny values).
        value.TryFormat(destination, out written, Math.Abs(value) >= 1 ? "F0" : "F17", CultureInfo.InvariantCulture);
        if (destination[..written].IndexOf((byte)'.') >= 0)
        {
            while (destination[written - 1] == (byte)'0')
                written--;
            if (destination[written - 1] == (byte)'.')
                written--;
        }
        return written;
    }
}
